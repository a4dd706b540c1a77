/*
 * starttime: how long a command takes from start to end, run again and
 * again, for where hyperfine is not (the test VM, which has no C library).
 *
 *   starttime RUNS PAUSE_MS CMD [ARGS...]
 *
 * Runs CMD RUNS times, its output to /dev/null, each run PAUSE_MS
 * milliseconds after the last (0: back to back), and prints "median_us
 * min_us". Exits 1 when a run fails.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: starttime RUNS PAUSE_MS CMD [ARGS...]\n");
		return 2;
	}
	int runs = atoi(argv[1]), pause_ms = atoi(argv[2]);
	if (runs < 1 || runs > 100000 || pause_ms < 0)
		return 2;
	long long *t = calloc(runs, sizeof(*t));
	if (!t)
		return 2;
	for (int i = 0; i < runs; i++) {
		if (pause_ms)
			usleep(pause_ms * 1000);
		long long t0 = now_us();
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			execv(argv[3], argv + 3);
			_exit(127);
		}
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "starttime: run %d of %s failed\n", i,
				argv[3]);
			return 1;
		}
		t[i] = now_us() - t0;
	}
	qsort(t, runs, sizeof(*t), cmp_ll);
	printf("%lld %lld\n", t[runs / 2], t[0]);
	return 0;
}
