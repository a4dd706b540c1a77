/* Small macros any file of the project may use. */
#ifndef MINIDOCKER_UTIL_H
#define MINIDOCKER_UTIL_H

/* The number of elements of the array a (an array, not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
