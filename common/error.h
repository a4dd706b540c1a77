/* Error reporting shared by every stage: one line on stderr, git's style. */
#ifndef MINIDOCKER_ERROR_H
#define MINIDOCKER_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>

/* Exit statuses, as docker documents them (see docs/DESIGN.md). */
enum {
	EXIT_RUNTIME = 125,    /* the runtime itself failed */
	EXIT_CANNOT_RUN = 126, /* the command exists but could not run */
	EXIT_NOT_FOUND = 127,  /* the command was not found */
};

/* Name printed before every message ("stage-4"); set once by main(). */
void set_prog_name(const char *name);
const char *prog_name(void);

/* Turn the --verbose progress lines on or off. */
void set_verbose(bool on);

/* Have fn called before die(), die_errno() or die_status() exits, in
 * the process that called this only (not in its children), once: what
 * must be undone even then, as the terminal's modes (stage 15). NULL:
 * nothing. */
void set_die_hook(void (*fn)(void));

/* Have fn called with each line printed (without its newline), error
 * says whether it is an error (die, report) or progress (verbose): where
 * stage 16's --log keeps a copy. In this process and in its children
 * until they exec. NULL: none. */
void set_line_hook(void (*fn)(bool error, const char *line, size_t len));

/* Print "prog: message" and exit with EXIT_RUNTIME. */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "prog: message: strerror(errno)" and exit with EXIT_RUNTIME. */
noreturn void die_errno(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Print "prog: message: strerror(errno)" and exit with status. */
noreturn void die_status(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print "prog: message" and go on, for errors that must clean up before
 * the runtime exits. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "prog: message: strerror(errno)" and go on, for errors that must
 * clean up before the runtime exits. */
void report_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "prog: message" on stderr, and only with --verbose. */
void verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
