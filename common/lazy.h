/* A shared library loaded at its first use, not at every start.
 *
 * Stages 13 on use libcurl, libarchive and libcrypto to pull, and
 * libnftables to publish ports; a run of an image already pulled, a
 * --net none run, --help and every bad option need none of them. Linked
 * the usual way, the dynamic loader would map and relocate them and the
 * forty-odd libraries they bring (krb5, ldap, icu, gnutls, ...) before
 * main(), at every start: several milliseconds, more than the container
 * itself costs. So the programs are not linked with them. Instead a file
 * per library (common/image/libs.c, common/net/libs.c) defines the
 * library's functions the code calls, under their own names and with the
 * library's own declarations, each opening the library the first time
 * one is called and calling the real function:
 *
 *     static struct lazy_lib curl = LAZY_LIB("libcurl.so.4");
 *     CURL *curl_easy_init(void)
 *     {
 *             return LAZY(curl, curl_easy_init)();
 *     }
 *
 * The call sites are unchanged. A library that is not installed is one
 * line, status 125, when a command first needs it.
 *
 * Header only, as static functions: it is used by common/image/ and
 * common/net/, which are linked apart from each other. Never with
 * dlopen() into a static program, where it has no place: compiled with
 * LAZY_STATIC (the static builds of stages 13, 15 and 16), the image
 * commands run in the program's dynamically linked twin
 * (common/image/libs.h), libnftables' functions ask the twin to run the
 * rules (common/net/libs.c), and lazy_sym() dies.
 */
#ifndef MINIDOCKER_LAZY_H
#define MINIDOCKER_LAZY_H

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "error.h"

struct lazy_lib {
	const char *soname; /* "libcurl.so.4": the ABI its headers are of */
	void *handle;	    /* once opened */
	pthread_mutex_t lock;
};

#define LAZY_LIB(soname)                                                       \
	{                                                                      \
		soname, NULL, PTHREAD_MUTEX_INITIALIZER                        \
	}

#ifdef LAZY_STATIC
/* Compiled into a static program (stages 13, 15 and 16, for a quicker
 * start), where glibc's dlopen() would load a second libc.so beside the
 * one linked in, and threads started through it (libcurl's resolver's)
 * crash: such a program runs what needs the libraries in its dynamically
 * linked twin (exec_dynamic_twin(), common/image/libs.h; the rules of
 * common/net/libs.c), and never comes here. */
static inline void *lazy_sym(struct lazy_lib *lib, const char *name)
{
	die_status(125, "cannot call %s: %s is not loaded in a static program",
		   name, lib->soname);
}

/* The twin's path into twin (PATH_MAX): our own binary's, with
 * "-dynamic" after it, as make builds the two side by side. Returns 0,
 * or -1 with the reason in why. */
static inline int lazy_twin_path(char *twin, char *why, size_t why_len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		snprintf(why, why_len, "cannot find our own binary: %m");
		return -1;
	}
	self[n] = '\0';
	if (snprintf(twin, PATH_MAX, "%s-dynamic", self) >= PATH_MAX) {
		snprintf(why, why_len,
			 "the path of the twin of '%s' is too long", self);
		return -1;
	}
	return 0;
}
#else
/* The function name of lib, opening lib first if need be; dies with
 * status 125 and one line when either cannot be found. Thread-safe: a
 * pull fetches layers from several threads. */
static inline void *lazy_sym(struct lazy_lib *lib, const char *name)
{
	pthread_mutex_lock(&lib->lock);
	if (!lib->handle)
		lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	void *fn = lib->handle ? dlsym(lib->handle, name) : NULL;
	pthread_mutex_unlock(&lib->lock);
	if (!lib->handle)
		die_status(
		    125,
		    "cannot load %s (%s): install it with sudo make deps-run",
		    lib->soname, dlerror());
	if (!fn)
		die_status(125,
			   "%s has no %s: not the version this was built with",
			   lib->soname, name);
	return fn;
}
#endif

/* The real function fn of lib, looked up once: a pointer of fn's own
 * type, so that its call is checked as a direct call would be. */
#define LAZY(lib, fn)                                                          \
	(__extension__({                                                       \
		static __typeof__(&fn) lazy_fn_;                               \
		__typeof__(&fn) lazy_got_ =                                    \
		    __atomic_load_n(&lazy_fn_, __ATOMIC_ACQUIRE);              \
		if (!lazy_got_) {                                              \
			lazy_got_ = (__typeof__(&fn))lazy_sym(&lib, #fn);      \
			__atomic_store_n(&lazy_fn_, lazy_got_,                 \
					 __ATOMIC_RELEASE);                    \
		}                                                              \
		lazy_got_;                                                     \
	}))

#endif
