#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "rootfs.h"

/* Whether dir has any entry besides . and .. */
static bool has_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *e;
	bool found = false;
	while (!found && (e = readdir(d)))
		found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return found;
}

int check_rootfs(const char *dir, char *why, size_t why_len)
{
	struct stat st;
	char proc[4096];

	/* The usual case in one call: a /proc directory inside means dir is
	 * a directory and not empty. */
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	if (stat(proc, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (stat(dir, &st) < 0) {
		snprintf(why, why_len, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "not a directory");
		return -1;
	}
	if (!has_entries(dir)) {
		snprintf(why, why_len, "it is empty");
		return -1;
	}
	snprintf(why, why_len, "it has no /proc directory");
	return -1;
}
