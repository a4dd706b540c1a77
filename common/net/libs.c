/* libnftables, loaded when a container first needs a firewall rule
 * (common/lazy.h says why): the functions common/net/nft.c calls, each
 * forwarding to the library's own. A --net none run loads none of it. */
#include <nftables/libnftables.h>

#include "lazy.h"

static struct lazy_lib nftables = LAZY_LIB("libnftables.so.1");

struct nft_ctx *nft_ctx_new(uint32_t flags)
{
	return LAZY(nftables, nft_ctx_new)(flags);
}

void nft_ctx_free(struct nft_ctx *ctx)
{
	LAZY(nftables, nft_ctx_free)(ctx);
}

int nft_ctx_buffer_output(struct nft_ctx *ctx)
{
	return LAZY(nftables, nft_ctx_buffer_output)(ctx);
}

int nft_ctx_buffer_error(struct nft_ctx *ctx)
{
	return LAZY(nftables, nft_ctx_buffer_error)(ctx);
}

const char *nft_ctx_get_output_buffer(struct nft_ctx *ctx)
{
	return LAZY(nftables, nft_ctx_get_output_buffer)(ctx);
}

const char *nft_ctx_get_error_buffer(struct nft_ctx *ctx)
{
	return LAZY(nftables, nft_ctx_get_error_buffer)(ctx);
}

int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf)
{
	return LAZY(nftables, nft_run_cmd_from_buffer)(nft, buf);
}
