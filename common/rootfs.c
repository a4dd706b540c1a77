#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

int rootfs_join_layers(const char *list, char *out, size_t out_len,
		       char *why, size_t why_len)
{
	char copy[PATH_MAX], path[PATH_MAX], reason[256];
	bool several = strchr(list, ':') != NULL;
	size_t used = 0;
	struct stat st;

	if (snprintf(copy, sizeof(copy), "%s", list) >= (int)sizeof(copy)) {
		snprintf(why, why_len, "the list of layers is too long");
		return -1;
	}
	for (char *rest = copy, *dir; (dir = strsep(&rest, ":"));) {
		if (!*dir) {
			snprintf(why, why_len, "a layer in the list is empty");
			return -1;
		}
		/* The last layer is the image, with the /proc to mount on. */
		if (!rest && check_rootfs(dir, reason, sizeof(reason)) < 0) {
			if (several)
				snprintf(why, why_len, "image layer '%s': %s "
					 "(make one: sudo ./rootfs-fetch.sh)",
					 dir, reason);
			else
				snprintf(why, why_len, "%s (make one: sudo "
					 "./rootfs-fetch.sh)", reason);
			return -1;
		}
		if (rest) {
			int err = stat(dir, &st) < 0 ? errno : 0;
			if (err || !S_ISDIR(st.st_mode)) {
				snprintf(why, why_len, "layer '%s': %s", dir,
					 err ? strerror(err) : "not a directory");
				return -1;
			}
		}
		if (!realpath(dir, path)) {
			snprintf(why, why_len, "cannot resolve '%s': %s", dir,
				 strerror(errno));
			return -1;
		}
		/* overlayfs splits its options at ',' and layers at ':'. */
		if (strpbrk(path, ",:")) {
			snprintf(why, why_len, "'%s': overlayfs cannot take a "
				 "path with ',' or ':'", path);
			return -1;
		}
		int n = snprintf(out + used, out_len - used, "%s%s",
				 used ? ":" : "", path);
		if (n < 0 || (size_t)n >= out_len - used) {
			snprintf(why, why_len, "the layers' paths come to more "
				 "than %zu bytes", out_len - 1);
			return -1;
		}
		used += n;
	}
	return 0;
}
