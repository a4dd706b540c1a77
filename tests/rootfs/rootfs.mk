# rootfs-fetch.sh: the root filesystems it makes, and its tests.

# The busybox root filesystem the CUnit suites run the stages in. The stamp
# is made here, after the script succeeded, so that the script itself puts
# nothing but the tree into a root filesystem; tests.mk copies the probe in
# once the stamp exists. --force: the rule only runs when the stamp is
# missing or older than the script, and then the tree is rebuilt.
TEST_ROOTFS ?= $(BUILD)/test-rootfs

.PHONY: rootfs test-rootfs

# httpd (busybox) serves the downloads; curl and wget fetch them; setpriv
# runs the cases that need a user without root.
DEPS_ROOTFS_TEST := busybox-static curl wget util-linux
DEPS_TEST += $(DEPS_ROOTFS_TEST)

$(TEST_ROOTFS)/.rootfs-ok: rootfs-fetch.sh
	@mkdir -p $(dir $(TEST_ROOTFS))
	./rootfs-fetch.sh --busybox --force $(TEST_ROOTFS)
	touch $@

# ./rootfs for `make run`; the script leaves an existing one alone.
rootfs:
	./rootfs-fetch.sh

# The script's own tests (root: device nodes, chroot, tarball owners).
test-rootfs:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: test-rootfs skipped: it needs root (mknod, chroot, tarball owners): run sudo make test-rootfs" >&2; \
		exit 1; fi
	@tools/deps.sh test-rootfs $(DEPS_ROOTFS_TEST)
	ROOTFS_TEST_TMP=$(BUILD) bash tests/rootfs/rootfs_test.sh
