/* Where the image commands run. A pull's libraries (libcurl, libarchive,
 * libcrypto; `images` too needs libcrypto, for an image's id) are loaded
 * at their first use (common/lazy.h, libs.c), which only a dynamically
 * linked program can do: glibc's dlopen() in a static one loads a second
 * libc.so beside the one linked in, and libcurl's resolver thread,
 * started through it, crashes. Stages 13, 15 and 16 are linked
 * statically all the same, for a quicker start (a run needs none of
 * them), and run pull, images and rmi in their twin: the same sources
 * linked dynamically, PROGRAM-dynamic beside it (the Makefile's
 * STAGE_TWIN_N). */
#ifndef MINIDOCKER_IMAGE_LIBS_H
#define MINIDOCKER_IMAGE_LIBS_H

/* In a static program, run the twin in our place (execv(): the same
 * process, arguments argv and environment), and never return; dies with
 * status 125 after saying why when it cannot. In a dynamically linked
 * program (stage 14, the twins, every build of `make asan`), return:
 * the command runs here. */
void exec_dynamic_twin(char **argv);

#endif
