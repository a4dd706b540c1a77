/* Small files: the kernel's interface files take one write each. */
#ifndef MINIDOCKER_FILE_H
#define MINIDOCKER_FILE_H

/* Write text to the file at path in a single write(2), as cgroup and
 * /proc/<pid>/uid_map files require. Returns 0, or -1 with errno. */
int write_file(const char *path, const char *text);

#endif
