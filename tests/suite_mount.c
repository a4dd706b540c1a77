/* Stage 5: a mount namespace, made private before anything is mounted.
 * Each test first makes a systemd host: its own mount namespace with /
 * shared, where a leak would show. */

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

static void test_no_mount_reaches_shared_host(void)
{
	if (h_enter_shared_host() < 0)
		return;
	struct container c;
	if (h_start_ready(&c) == 0) {
		H_RUN(c.r, !h_mounted_under(H.rootfs));
		h_finish(&c, NULL, H_TIMEOUT_MS);
		H_STATUS(c.r, 0);
		H_RUN(c.r, !h_mounted_under(H.rootfs));
		h_free(&c.r);
	}
	h_leave_shared_host();
}

static void test_container_mounts_not_shared(void)
{
	if (h_enter_shared_host() < 0)
		return;
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "mountinfo");
	H_STATUS(r, 0);
	/* At least the container's /proc is listed... */
	H_RUN(r, strstr(r.out, " /proc ") != NULL);
	/* ...and no mount of the container is a peer of the host's. */
	H_RUN(r, strstr(r.out, " shared:") == NULL);
	h_free(&r);
	h_leave_shared_host();
}

static void test_mount_namespace_differs(void)
{
	h_assert_ns_differs("mnt");
}

static const struct stage_test tests[] = {
	{"test_no_mount_reaches_shared_host", test_no_mount_reaches_shared_host,
	 true},
	{"test_container_mounts_not_shared", test_container_mounts_not_shared,
	 true},
	{"test_mount_namespace_differs", test_mount_namespace_differs, true},
	{NULL, NULL, false},
};

const struct stage_suite suite_mount = {5, "mount", true, tests};
