#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static const char *name = "minidocker";
static bool verbose_on;

void set_prog_name(const char *n)
{
	name = n;
}

const char *prog_name(void)
{
	return name;
}

void set_verbose(bool on)
{
	verbose_on = on;
}

/* Format the whole line first and write it at once, so that lines from
 * the runtime and the container's processes never interleave. */
static void print_line(const char *fmt, va_list ap, int err)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s: ", name);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	int m = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (m > 0)
		n = (size_t)(n + m) >= sizeof(buf) ? (int)sizeof(buf) - 1 : n + m;
	if (err)
		n += snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(err));
	if ((size_t)n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	/* A quoted argument or path may hold a newline or a terminal escape:
	 * show it as '?', so the message stays one line. */
	for (int i = 0; i < n; i++)
		if ((unsigned char)buf[i] < ' ' || buf[i] == 0x7f)
			buf[i] = '?';
	buf[n++] = '\n';
	/* One write(2): stdio's buffer would be lost by _exit() in the child. */
	ssize_t ignored = write(STDERR_FILENO, buf, n);
	(void)ignored;
}

/* What every printer below does with its arguments: one line, with
 * strerror(errno) appended when with_errno, and errno left as it was. */
#define PRINT_LINE(fmt, with_errno)                                        \
	do {                                                               \
		int saved_errno = errno;                                   \
		va_list ap;                                                \
		va_start(ap, fmt);                                         \
		print_line(fmt, ap, (with_errno) ? saved_errno : 0);       \
		va_end(ap);                                                \
		errno = saved_errno;                                       \
	} while (0)

void die(const char *fmt, ...)
{
	PRINT_LINE(fmt, false);
	_exit(EXIT_RUNTIME);
}

void die_errno(const char *fmt, ...)
{
	PRINT_LINE(fmt, true);
	_exit(EXIT_RUNTIME);
}

void die_status(int status, const char *fmt, ...)
{
	PRINT_LINE(fmt, true);
	_exit(status);
}

void report(const char *fmt, ...)
{
	PRINT_LINE(fmt, false);
}

void report_errno(const char *fmt, ...)
{
	PRINT_LINE(fmt, true);
}

void verbose(const char *fmt, ...)
{
	if (verbose_on)
		PRINT_LINE(fmt, false);
}
