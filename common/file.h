/* Small files: the kernel's interface files take one write each. */
#ifndef MINIDOCKER_FILE_H
#define MINIDOCKER_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* Write text to the file at path in a single write(2), as cgroup and
 * /proc/<pid>/uid_map files require. Returns 0, or -1 with errno. */
int write_file(const char *path, const char *text);

/* Read up to len-1 bytes of the file at path into buf, NUL-terminated.
 * Returns 0, or -1 with errno. */
int read_small(const char *path, char *buf, size_t len);

/* Whether the list of words in text (separated by spaces, ended by a
 * newline or the end) holds word, as cgroup.controllers lists them. */
bool lists_word(const char *text, const char *word);

/* The number after key in the file dir/file, on the line "key N"
 * ("oom_kill 3" in memory.events or /proc/vmstat), or the file's first
 * number when key is NULL; -1 when the file or the key is missing. Reads
 * line by line, so any size of file. */
long long read_key(const char *dir, const char *file, const char *key);

#endif
