/* libcurl, libarchive and libcrypto, loaded when a pull first needs them
 * (common/lazy.h says why): the functions common/image/ calls, each
 * forwarding to the library's own. A run of an image already in the
 * store loads none of them. Compiled with LAZY_STATIC into a static
 * program, they die instead: the image commands run in its twin
 * (libs.h). */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "lazy.h"
#include "libs.h"

void exec_dynamic_twin(char **argv)
{
#ifdef LAZY_STATIC
	char twin[PATH_MAX], why[PATH_MAX + 64];
	if (lazy_twin_path(twin, why, sizeof(why)) < 0)
		die("cannot run the twin that runs the image commands: %s",
		    why);
	execv(twin, argv);
	die_errno("cannot run '%s', which runs the image commands of this "
		  "program (make builds both)",
		  twin);
#else
	(void)argv;
#endif
}

static struct lazy_lib curl = LAZY_LIB("libcurl.so.4");
static struct lazy_lib archive = LAZY_LIB("libarchive.so.13");
static struct lazy_lib crypto = LAZY_LIB("libcrypto.so.3");

/*** libcurl ***/

/* curl.h makes these two macros that check their argument's type (with
 * gcc); the parentheses define the functions themselves. */
CURLcode(curl_easy_setopt)(CURL *c, CURLoption option, ...)
{
	/* The option's number says its argument's type: long, pointer
	 * (data or function), curl_off_t, or pointer again (a blob). */
	va_list ap;
	va_start(ap, option);
	CURLcode rc;
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = LAZY(curl, curl_easy_setopt)(c, option, va_arg(ap, long));
	else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
		rc = LAZY(curl, curl_easy_setopt)(c, option,
						  va_arg(ap, curl_off_t));
	else
		rc =
		    LAZY(curl, curl_easy_setopt)(c, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode(curl_easy_getinfo)(CURL *c, CURLINFO info, ...)
{
	/* Every CURLINFO's argument is a pointer to where the answer goes. */
	va_list ap;
	va_start(ap, info);
	CURLcode rc =
	    LAZY(curl, curl_easy_getinfo)(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_global_init(long flags)
{
	return LAZY(curl, curl_global_init)(flags);
}

CURL *curl_easy_init(void)
{
	return LAZY(curl, curl_easy_init)();
}

void curl_easy_cleanup(CURL *c)
{
	LAZY(curl, curl_easy_cleanup)(c);
}

void curl_easy_reset(CURL *c)
{
	LAZY(curl, curl_easy_reset)(c);
}

CURLcode curl_easy_perform(CURL *c)
{
	return LAZY(curl, curl_easy_perform)(c);
}

const char *curl_easy_strerror(CURLcode code)
{
	return LAZY(curl, curl_easy_strerror)(code);
}

char *curl_easy_escape(CURL *c, const char *s, int len)
{
	return LAZY(curl, curl_easy_escape)(c, s, len);
}

void curl_free(void *p)
{
	LAZY(curl, curl_free)(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return LAZY(curl, curl_slist_append)(list, s);
}

void curl_slist_free_all(struct curl_slist *list)
{
	LAZY(curl, curl_slist_free_all)(list);
}

/*** libarchive ***/

struct archive *archive_read_new(void)
{
	return LAZY(archive, archive_read_new)();
}

int archive_read_support_format_tar(struct archive *a)
{
	return LAZY(archive, archive_read_support_format_tar)(a);
}

int archive_read_support_filter_gzip(struct archive *a)
{
	return LAZY(archive, archive_read_support_filter_gzip)(a);
}

int archive_read_support_filter_zstd(struct archive *a)
{
	return LAZY(archive, archive_read_support_filter_zstd)(a);
}

int archive_read_open_fd(struct archive *a, int fd, size_t block_size)
{
	return LAZY(archive, archive_read_open_fd)(a, fd, block_size);
}

int archive_read_next_header(struct archive *a, struct archive_entry **e)
{
	return LAZY(archive, archive_read_next_header)(a, e);
}

int archive_read_data_block(struct archive *a, const void **buf, size_t *size,
			    la_int64_t *offset)
{
	return LAZY(archive, archive_read_data_block)(a, buf, size, offset);
}

int archive_read_free(struct archive *a)
{
	return LAZY(archive, archive_read_free)(a);
}

struct archive *archive_write_disk_new(void)
{
	return LAZY(archive, archive_write_disk_new)();
}

int archive_write_disk_set_options(struct archive *a, int flags)
{
	return LAZY(archive, archive_write_disk_set_options)(a, flags);
}

int archive_write_header(struct archive *a, struct archive_entry *e)
{
	return LAZY(archive, archive_write_header)(a, e);
}

la_ssize_t archive_write_data_block(struct archive *a, const void *buf,
				    size_t size, la_int64_t offset)
{
	return LAZY(archive, archive_write_data_block)(a, buf, size, offset);
}

int archive_write_finish_entry(struct archive *a)
{
	return LAZY(archive, archive_write_finish_entry)(a);
}

int archive_write_close(struct archive *a)
{
	return LAZY(archive, archive_write_close)(a);
}

int archive_write_free(struct archive *a)
{
	return LAZY(archive, archive_write_free)(a);
}

const char *archive_error_string(struct archive *a)
{
	return LAZY(archive, archive_error_string)(a);
}

const char *archive_entry_pathname(struct archive_entry *e)
{
	return LAZY(archive, archive_entry_pathname)(e);
}

const char *archive_entry_hardlink(struct archive_entry *e)
{
	return LAZY(archive, archive_entry_hardlink)(e);
}

mode_t archive_entry_filetype(struct archive_entry *e)
{
	return LAZY(archive, archive_entry_filetype)(e);
}

la_int64_t archive_entry_size(struct archive_entry *e)
{
	return LAZY(archive, archive_entry_size)(e);
}

/*** libcrypto ***/

const EVP_MD *EVP_sha256(void)
{
	return LAZY(crypto, EVP_sha256)();
}

EVP_MD_CTX *EVP_MD_CTX_new(void)
{
	return LAZY(crypto, EVP_MD_CTX_new)();
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
	LAZY(crypto, EVP_MD_CTX_free)(ctx);
}

int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl)
{
	return LAZY(crypto, EVP_DigestInit_ex)(ctx, type, impl);
}

int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt)
{
	return LAZY(crypto, EVP_DigestUpdate)(ctx, d, cnt);
}

int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s)
{
	return LAZY(crypto, EVP_DigestFinal_ex)(ctx, md, s);
}

int EVP_Digest(const void *data, size_t count, unsigned char *md,
	       unsigned int *size, const EVP_MD *type, ENGINE *impl)
{
	return LAZY(crypto, EVP_Digest)(data, count, md, size, type, impl);
}
