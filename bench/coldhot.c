/*
 * coldhot: how much slower a command starts after a pause than back to
 * back, where hyperfine is not at hand (the cgroup v2 VM of tests/vm).
 *
 *     coldhot RUNS PAUSE_MS NAME <cmd> [args...]
 *
 * Runs the command 3 times to warm up, RUNS times back to back (hot), then
 * RUNS times each after PAUSE_MS milliseconds of sleep (cold), timing
 * fork, exec and wait of each run, and prints one line:
 *
 *     coldhot: NAME hot median X ms, cold median Y ms, cold/hot Z
 *
 * Exits 0 when every run of the command exited 0, else 1: a figure about
 * a failing command would time its error path. It judges nothing; the
 * targets are read in bench/README.md.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COLDHOT_MAX_RUNS 1000
#define COLDHOT_WARMUP	 3

/* Microseconds on the monotonic clock (the bench programs stand alone,
 * so this is a copy of common/clock.c's idea, finer). */
static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Run argv once and return its wall time in microseconds, or -1 when it
 * could not run or did not exit 0. */
static double run_once(char **argv)
{
	double start = now_us();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	double took = now_us() - start;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? took : -1;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static double hot[COLDHOT_MAX_RUNS], cold[COLDHOT_MAX_RUNS];
	if (argc < 5) {
		fputs("coldhot: usage: coldhot RUNS PAUSE_MS NAME <cmd> "
		      "[args...]\n",
		      stderr);
		return 2;
	}
	int runs = atoi(argv[1]);
	long pause_ms = atol(argv[2]);
	const char *name = argv[3];
	char **cmd = argv + 4;
	if (runs < 1 || runs > COLDHOT_MAX_RUNS || pause_ms < 0) {
		fprintf(stderr, "coldhot: want 1 to %d runs and a pause >= 0\n",
			COLDHOT_MAX_RUNS);
		return 2;
	}
	struct timespec pause = {pause_ms / 1000, (pause_ms % 1000) * 1000000};

	for (int i = 0; i < COLDHOT_WARMUP; i++)
		if (run_once(cmd) < 0)
			goto failed;
	for (int i = 0; i < runs; i++)
		if ((hot[i] = run_once(cmd)) < 0)
			goto failed;
	for (int i = 0; i < runs; i++) {
		nanosleep(&pause, NULL);
		if ((cold[i] = run_once(cmd)) < 0)
			goto failed;
	}
	double h = median(hot, runs) / 1000, c = median(cold, runs) / 1000;
	printf("coldhot: %s hot median %.3f ms, cold median %.3f ms, "
	       "cold/hot %.2f (%d runs each, %ld ms pause)\n",
	       name, h, c, c / h, runs, pause_ms);
	return 0;
failed:
	fprintf(stderr, "coldhot: '%s' did not run and exit 0\n", cmd[0]);
	return 1;
}
