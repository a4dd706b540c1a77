/* A pull's progress on a terminal: a line per layer, "bytes of total",
 * redrawn in place as the bytes come. */
#ifndef MINIDOCKER_PROGRESS_H
#define MINIDOCKER_PROGRESS_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"

struct progress {
	int fd;			     /* the terminal; -1: show nothing */
	const struct descriptor *d;  /* the layers, n of them */
	size_t n;
	int64_t *got;		     /* malloc'd: bytes come of each */
	bool drawn;		     /* the lines are on the screen */
	long long last_ms;	     /* when they were last drawn */
};

/* Get ready to show the n layers d on fd, when fd is a terminal; a pipe
 * or a log shows nothing. */
void progress_start(struct progress *p, int fd, const struct descriptor *d,
		    size_t n);

/* Layer index has got bytes: redraw, at most ten times a second (and
 * when a layer is whole). A blob_progress (blob.h). */
void progress_update(void *p, size_t index, int64_t got);

/* Draw the last state and let go. */
void progress_end(struct progress *p);

#endif
