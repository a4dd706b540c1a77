/* Capability names as capabilities(7) spells them, and their numbers. */
#ifndef MINIDOCKER_CAPS_H
#define MINIDOCKER_CAPS_H

#include <stdint.h>

#define CAPS_COUNT 41 /* CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40) */
#define CAPS_ALL ((UINT64_C(1) << CAPS_COUNT) - 1)

/* The number of capability name ("CAP_NET_RAW", "net_raw", any case),
 * or -1 when there is none of that name. */
int cap_by_name(const char *name);

/* The name of capability cap ("CAP_NET_RAW"), or NULL. */
const char *cap_name(int cap);

#endif
