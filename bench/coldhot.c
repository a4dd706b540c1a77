/*
 * coldhot: how much slower a command starts after a pause than back to
 * back, where hyperfine is not at hand (the cgroup v2 VM of tests/vm).
 *
 *     coldhot RUNS PAUSE_MS NAME <cmd> [args...]
 *
 * Runs the command 3 times to warm up, then RUNS rounds of: one run
 * untimed, one run right after it (hot), a sleep of PAUSE_MS milliseconds
 * and one run after it (cold). Hot and cold samples alternate, so that
 * other work on the machine, which comes and goes, weighs on both alike.
 * It times fork, exec and wait of each run, and prints one line of key=value
 * pairs, times in milliseconds (the minimums are the figures other work on
 * the machine disturbs least):
 *
 *     coldhot: NAME hot_median=X hot_min=X cold_median=Y cold_min=Y
 *              ratio_median=Y/X ratio_min=Y/X runs=RUNS pause_ms=PAUSE_MS
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

/* The median of v (sorted in place), and its smallest in *min. */
static double median(double *v, int n, double *min)
{
	qsort(v, n, sizeof(*v), by_value);
	*min = v[0];
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
	for (int i = 0; i < runs; i++) {
		if (run_once(cmd) < 0 || (hot[i] = run_once(cmd)) < 0)
			goto failed;
		nanosleep(&pause, NULL);
		if ((cold[i] = run_once(cmd)) < 0)
			goto failed;
	}
	double hmin, cmin;
	double h = median(hot, runs, &hmin), c = median(cold, runs, &cmin);
	printf("coldhot: %s hot_median=%.3f hot_min=%.3f cold_median=%.3f "
	       "cold_min=%.3f ratio_median=%.2f ratio_min=%.2f runs=%d "
	       "pause_ms=%ld\n",
	       name, h / 1000, hmin / 1000, c / 1000, cmin / 1000, c / h,
	       cmin / hmin, runs, pause_ms);
	return 0;
failed:
	fprintf(stderr, "coldhot: '%s' did not run and exit 0\n", cmd[0]);
	return 1;
}
