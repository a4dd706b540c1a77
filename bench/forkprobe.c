/*
 * Host fork latency: the median time of fork, _exit and waitpid.
 *
 *     forkprobe [N]
 *
 * Forks N children (default 200), one after another, each exiting at
 * once, and prints the median round trip in microseconds.
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_DEFAULT_RUNS 200
#define PROBE_MAX_RUNS	   100000

/* Nanoseconds on the monotonic clock. */
static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* qsort() order for long long. */
static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : PROBE_DEFAULT_RUNS;
	if (runs < 1 || runs > PROBE_MAX_RUNS) {
		fprintf(stderr, "forkprobe: runs must be 1..%d\n",
			PROBE_MAX_RUNS);
		return 2;
	}
	long long *took = malloc(sizeof(*took) * (size_t)runs);
	if (!took) {
		perror("forkprobe: cannot allocate");
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		long long start = now_ns();
		pid_t pid = fork();
		if (pid < 0) {
			perror("forkprobe: cannot fork");
			return 1;
		}
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) < 0) {
			perror("forkprobe: cannot wait");
			return 1;
		}
		took[i] = now_ns() - start;
	}
	qsort(took, (size_t)runs, sizeof(*took), cmp_ll);
	printf("%.1f\n", took[runs / 2] / 1000.0);
	free(took);
	return 0;
}
