/* A canned HTTP server for the pull's faults: shared by suite 13
 * (tests/suite_image.c) and the image plumbing's test (tests/registry/). */
#ifndef MINIDOCKER_SERVE_H
#define MINIDOCKER_SERVE_H

#include <sys/types.h>

/* A child that answers every connection on a free loopback port with the
 * same bytes, answer, whatever was asked, for at most 30 s. Returns its
 * pid (the caller kills and reaps it) and the port in *port, or -1. */
pid_t serve_answer(const char *answer, int *port);

#endif
