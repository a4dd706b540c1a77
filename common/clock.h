/* Time for deadlines: milliseconds that only go forward. */
#ifndef MINIDOCKER_CLOCK_H
#define MINIDOCKER_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC, which no change of the wall clock
 * moves: for "until now_ms() passes end" loops. The static probe and the
 * bench programs keep a copy of their own: they link nothing of common/. */
long now_ms(void);

#endif
