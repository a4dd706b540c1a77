/*
 * A bounded fork bomb for the stage-6 containment figure.
 *
 *     bench-bomb [HOLD_MS]
 *
 * Runs as PID 1 of the container. Forks children that only wait, until
 * the kernel refuses (EAGAIN from the pids cgroup), keeps pressing on the
 * limit once a millisecond for HOLD_MS (default 1000) in all, prints
 * "forked N refused M" and exits; as PID 1 its end kills every child.
 * Never more than BOMB_MAX_CHILDREN, so that it stays bounded even when
 * nothing contains it. Built static: the busybox root has no libc.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BOMB_MAX_CHILDREN    1000
#define BOMB_DEFAULT_HOLD_MS 1000

/* Milliseconds on the monotonic clock (common/clock.c's now_ms(), copied:
 * the bench programs stand alone). */
static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
	long hold_ms = argc > 1 ? atol(argv[1]) : BOMB_DEFAULT_HOLD_MS;
	long forked = 0, refused = 0, deadline = now_ms() + hold_ms;
	const struct timespec tick = {0, 1000000L};

	while (now_ms() < deadline) {
		if (forked >= BOMB_MAX_CHILDREN) {
			nanosleep(&tick, NULL);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			/* A child holds its pid until PID 1 ends; the
			 * kernel then kills it with the namespace. */
			for (;;)
				pause();
		}
		if (pid > 0) {
			forked++;
			continue;
		}
		if (errno != EAGAIN) {
			perror("bench-bomb: cannot fork");
			return 1;
		}
		refused++;
		nanosleep(&tick, NULL);
	}
	printf("forked %ld refused %ld\n", forked, refused);
	return 0;
}
