#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static const char *name = "minidocker";
static bool verbose_on;
static void (*die_hook)(void);
static pid_t die_hook_pid;
static void (*line_hook)(bool error, const char *line, size_t len);

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

void set_die_hook(void (*fn)(void))
{
	die_hook = fn;
	die_hook_pid = getpid();
}

void set_line_hook(void (*fn)(bool error, const char *line, size_t len))
{
	line_hook = fn;
}

/* Run the hook once, and only in the process that set it: a child of
 * the runtime that dies must not undo what the runtime still uses. */
static void run_die_hook(void)
{
	void (*fn)(void) = die_hook;
	die_hook = NULL;
	if (fn && getpid() == die_hook_pid)
		fn();
}

/* A message being formatted: the text so far, never longer than
 * sizeof(buf) - 2, so that the newline print_line() adds always fits. */
struct line {
	char buf[1024];
	size_t len;
};

/* Append what vsnprintf() makes of fmt, cut where the buffer ends. */
static void vappend(struct line *l, const char *fmt, va_list ap)
{
	size_t room = sizeof(l->buf) - 1 - l->len; /* one byte for '\n' */
	int n = vsnprintf(l->buf + l->len, room, fmt, ap);
	if (n > 0)
		l->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void append(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void append(struct line *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vappend(l, fmt, ap);
	va_end(ap);
}

/* Format the whole line first and write it at once, so that lines from
 * the runtime and the container's processes never interleave. */
static void print_line(const char *fmt, va_list ap, int err, bool error)
{
	struct line l;
	l.len = 0;
	append(&l, "%s: ", name);
	vappend(&l, fmt, ap);
	if (err)
		append(&l, ": %s", strerror(err));
	/* A quoted argument or path may hold a newline or a terminal escape:
	 * show it as '?', so the message stays one line. */
	for (size_t i = 0; i < l.len; i++)
		if ((unsigned char)l.buf[i] < ' ' || l.buf[i] == 0x7f)
			l.buf[i] = '?';
	if (line_hook)
		line_hook(error, l.buf, l.len);
	l.buf[l.len++] = '\n';
	/* One write(2): stdio's buffer would be lost by _exit() in the child.
	 */
	ssize_t ignored = write(STDERR_FILENO, l.buf, l.len);
	(void)ignored;
}

/* What every printer below does with its arguments: one line, with
 * strerror(errno) appended when with_errno, and errno left as it was. */
#define PRINT_LINE(fmt, with_errno, error)                                     \
	do {                                                                   \
		int saved_errno = errno;                                       \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		print_line(fmt, ap, (with_errno) ? saved_errno : 0, error);    \
		va_end(ap);                                                    \
		errno = saved_errno;                                           \
	} while (0)

void die(const char *fmt, ...)
{
	PRINT_LINE(fmt, false, true);
	run_die_hook();
	_exit(EXIT_RUNTIME);
}

void die_errno(const char *fmt, ...)
{
	PRINT_LINE(fmt, true, true);
	run_die_hook();
	_exit(EXIT_RUNTIME);
}

void die_status(int status, const char *fmt, ...)
{
	PRINT_LINE(fmt, true, true);
	run_die_hook();
	_exit(status);
}

void report(const char *fmt, ...)
{
	PRINT_LINE(fmt, false, true);
}

void report_errno(const char *fmt, ...)
{
	PRINT_LINE(fmt, true, true);
}

void verbose(const char *fmt, ...)
{
	if (verbose_on)
		PRINT_LINE(fmt, false, false);
}
