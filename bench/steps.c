/* steps: run commands one after the other, as one command hyperfine can
 * time without a shell. The words are split into steps at each "::";
 * "{}" in a later step is the first line the first step printed (the id
 * `run -d` prints); a step "@wait FILE" waits for the process whose pid
 * FILE holds (the container a runtime's create left behind, as a shim
 * or conmon does: steps is then its subreaper, with --subreaper). Every
 * step must exit 0, else steps says which did not and exits 1.
 *
 * usage: steps [--subreaper] CMD [ARGS] [:: CMD [ARGS]]...
 *        steps --subreaper RT create --pid-file P ID :: RT start ID
 *              :: @wait P :: RT delete ID */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORDS 64

static char id[256];

static void die(const char *what)
{
	fprintf(stderr, "steps: %s\n", what);
	exit(1);
}

/* Wait for pid: reaped if it is our child (we are its subreaper), else
 * polled through a pidfd until it ends. Returns 0, or -1. */
static int wait_pid(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) == pid)
		return 0;
	if (errno != ECHILD)
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return errno == ESRCH ? 0 : -1; /* gone already */
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	close(fd);
	return 0;
}

static int wait_file(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 0) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return wait_pid((pid_t)pid);
}

/* Run argv and wait for it; its stdout is read into id when keep (the
 * first step, when a later one uses "{}": a runtime's create must keep
 * the caller's stdout, which its container inherits). Returns its wait
 * status, or -1. */
static int run(char **argv, int keep)
{
	int fds[2] = {-1, -1};
	if (keep && pipe(fds) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (keep) {
			dup2(fds[1], STDOUT_FILENO);
			close(fds[0]);
			close(fds[1]);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "steps: cannot run '%s'\n", argv[0]);
		_exit(127);
	}
	if (keep) {
		size_t len = 0;
		ssize_t n;
		char buf[512];
		close(fds[1]);
		/* To the end: what does not fit is read and dropped. */
		while ((n = read(fds[0], buf, sizeof(buf))) > 0 ||
		       (n < 0 && errno == EINTR))
			for (ssize_t i = 0; i < n; i++)
				if (len + 1 < sizeof(id))
					id[len++] = buf[i];
		close(fds[0]);
		id[len] = '\0';
		id[strcspn(id, "\r\n")] = '\0';
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

int main(int argc, char **argv)
{
	int i = 1, keep = 0;
	if (i < argc && !strcmp(argv[i], "--subreaper")) {
		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
			die("cannot become a subreaper");
		i++;
	}
	if (i >= argc)
		die("usage: steps [--subreaper] CMD [ARGS] [:: CMD [ARGS]]...");
	for (int j = i; j < argc; j++)
		keep |= !strcmp(argv[j], "{}");
	while (i < argc) {
		char *words[MAX_WORDS + 1];
		int n = 0;
		for (; i < argc && strcmp(argv[i], "::"); i++) {
			if (n == MAX_WORDS)
				die("a step has too many words");
			words[n++] = strcmp(argv[i], "{}") ? argv[i] : id;
		}
		i++; /* the "::" */
		words[n] = NULL;
		if (n == 0)
			die("an empty step");
		if (!strcmp(words[0], "@wait")) {
			if (n != 2 || wait_file(words[1]) < 0) {
				fprintf(stderr,
					"steps: cannot wait for the pid "
					"in '%s'\n",
					n == 2 ? words[1] : "");
				return 1;
			}
			continue;
		}
		int status = run(words, keep);
		if (status != 0) {
			fprintf(stderr, "steps: '%s' failed (wait status %d)\n",
				words[0], status);
			return 1;
		}
		if (keep && !id[0])
			die("the first step printed no id");
		keep = 0;
	}
	/* What was ours to reap (orphans of the steps, as their subreaper). */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return 0;
}
