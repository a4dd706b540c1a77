# Hardening parts of `make test`: many containers at once and in a row,
# the suites under ASan and UBSan, the runtime under valgrind. The fuzz
# target for the argument parser is in tests/fuzz/fuzz.mk.

ASAN_BUILD := build/asan
DEPS_VALGRIND := valgrind
DEPS_TEST += $(DEPS_VALGRIND)
TEST_PARTS += test-stress test-asan valgrind

.PHONY: test-stress test-asan valgrind deps-valgrind

# Copies of the test root filesystem of their own, so that no other run
# of the suites (a stage 4 mounting its /proc in the host's mount table)
# shows up in these parts' checks for leftover mounts. -x: not into a
# mount left inside it.
STRESS_ROOTFS := $(BUILD)/stress-rootfs
ASAN_ROOTFS   := $(BUILD)/asan-rootfs

$(STRESS_ROOTFS)/.copied $(ASAN_ROOTFS)/.copied: %/.copied: \
		$(TEST_ROOTFS)/bin/probe
	rm -rf --one-file-system $*
	cp -ax $(TEST_ROOTFS) $*
	touch $@

# 500 containers one after another and 20 side by side, against every
# stage from 6 on: no mount, cgroup or process left, the runtime's fds the
# same in every run (tests/suite_stress.c; a few seconds).
test-stress: all tests $(STRESS_ROOTFS)/.copied
	$(TEST_RUNNER) --bin $(BUILD) --rootfs $(STRESS_ROOTFS) --stress

# Every suite against the stages built with ASan and UBSan (`make asan`),
# failing on any sanitizer report (tests/hardening/asan.sh says why the
# reports go to files).
test-asan: tests $(ASAN_ROOTFS)/.copied
	@$(MAKE) --no-print-directory asan
	tests/hardening/asan.sh $(TEST_RUNNER) $(ASAN_BUILD) $(ASAN_ROOTFS)

deps-valgrind:
	@tools/deps.sh valgrind $(DEPS_VALGRIND)

# Each stage's runtime under valgrind memcheck on a few runs, linked
# dynamically (memcheck replaces malloc and free through the loader).
VALGRIND_BUILD := $(BUILD)/dynamic
valgrind: deps-valgrind tests test-probe-rootfs
	@$(MAKE) --no-print-directory BUILD=$(VALGRIND_BUILD) STAGE_LDFLAGS= all
	tests/hardening/valgrind.sh $(VALGRIND_BUILD) $(TEST_ROOTFS) $(TEST_PROBE)
