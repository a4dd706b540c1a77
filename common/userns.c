#include <stdio.h>
#include <stdlib.h>

#include "userns.h"
#include "util.h"

/* Read the number in root/path; -1 when there is no such file. */
static long read_setting(const char *root, const char *path)
{
	char full[4096];
	snprintf(full, sizeof(full), "%s%s", root, path);
	FILE *f = fopen(full, "re");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int userns_restriction(const char *root, uid_t uid, char *why,
		       size_t why_len)
{
	static const struct {
		const char *path, *name;
		long forbids;
		int root_too; /* whether it holds for root as well */
		const char *fix;
	} settings[] = {
		{"/proc/sys/user/max_user_namespaces",
		 "user.max_user_namespaces", 0, 1,
		 "sudo sysctl user.max_user_namespaces=10000"},
		{"/proc/sys/kernel/unprivileged_userns_clone",
		 "kernel.unprivileged_userns_clone", 0, 0,
		 "sudo sysctl kernel.unprivileged_userns_clone=1"},
		{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
		 "kernel.apparmor_restrict_unprivileged_userns", 1, 0,
		 "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		if (uid == 0 && !settings[i].root_too)
			continue;
		if (read_setting(root, settings[i].path) != settings[i].forbids)
			continue;
		snprintf(why, why_len, "%s is %ld (allow it: %s)",
			 settings[i].name, settings[i].forbids, settings[i].fix);
		return 1;
	}
	return 0;
}
