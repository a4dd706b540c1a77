#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

void progress_start(struct progress *p, int fd, const struct descriptor *d,
		    size_t n)
{
	*p = (struct progress){.fd = -1, .d = d, .n = n};
	if (n == 0 || !isatty(fd) || !(p->got = calloc(n, sizeof(*p->got))))
		return;
	p->fd = fd;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Every line at once, in one write: back up over the lines drawn last
 * (ESC [ n A), then each line cleared (ESC [ K) and written anew. */
static void draw(struct progress *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return;
	if (p->drawn)
		fprintf(m, "\033[%zuA", p->n);
	for (size_t i = 0; i < p->n; i++)
		fprintf(m, "\r\033[Klayer %zu/%zu %.19s: %lld/%lld bytes%s\n",
			i + 1, p->n, p->d[i].digest, (long long)p->got[i],
			(long long)p->d[i].size,
			p->got[i] == p->d[i].size ? ", done" : "");
	fclose(m);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(p->fd, buf + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(buf);
	p->drawn = true;
	p->last_ms = now_ms();
}

void progress_update(void *ctx, size_t index, int64_t got)
{
	struct progress *p = ctx;
	if (p->fd < 0 || index >= p->n)
		return;
	p->got[index] = got;
	if (got == p->d[index].size || now_ms() - p->last_ms >= 100)
		draw(p);
}

void progress_end(struct progress *p)
{
	if (p->fd >= 0)
		draw(p);
	free(p->got);
	p->got = NULL;
	p->fd = -1;
}
