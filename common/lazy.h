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
 * LAZY_STATIC (stage 13's static build), every function dies instead.
 */
#ifndef MINIDOCKER_LAZY_H
#define MINIDOCKER_LAZY_H

#include <dlfcn.h>
#include <pthread.h>

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
/* Compiled into a static program (stage 13, for a quicker start), where
 * glibc's dlopen() would load a second libc.so beside the one linked in,
 * and threads started through it (libcurl's resolver's) crash: such a
 * program runs what needs the libraries in its dynamically linked twin
 * (exec_dynamic_twin(), common/image/libs.h), and never comes here. */
static inline void *lazy_sym(struct lazy_lib *lib, const char *name)
{
	die_status(125, "cannot call %s: %s is not loaded in a static program",
		   name, lib->soname);
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
