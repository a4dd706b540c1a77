# Hardening parts of `make test`: many containers at once and in a row,
# the suites under ASan and UBSan, the runtime under valgrind. The fuzz
# target for the argument parser is in tests/fuzz/fuzz.mk.

ASAN_BUILD := build/asan
DEPS_VALGRIND := valgrind
DEPS_TEST += $(DEPS_VALGRIND)
TEST_PARTS += test-stress test-asan valgrind

.PHONY: test-stress test-asan valgrind deps-valgrind build-hardening

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

# The suites against the stages built with ASan and UBSan (`make asan`;
# every suite against the last stage, its own and the hardening suites
# but the escape catalogue against each earlier one),
# failing on any sanitizer report (tests/hardening/asan.sh says why the
# reports go to files). Then the proof that a report from inside a
# rootless container, written into the copy of the root filesystem the
# harness deletes afterwards, still fails the run: asan_proof.sh runs the
# same script on the fixture below.
test-asan: tests $(ASAN_ROOTFS)/.copied
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory $(BUILD_JOBS) BUILD=$(ASAN_BUILD) CFLAGS="$(ASAN_CFLAGS)" \
		LDFLAGS="$(ASAN_LDFLAGS)" $(ASAN_BUILD)/fixture-ubsan-rootless
	@rc=0; tests/hardening/asan.sh $(TEST_RUNNER) $(ASAN_BUILD) $(ASAN_ROOTFS) || rc=1; \
	tests/hardening/asan_proof.sh $(TEST_RUNNER) \
		$(ASAN_BUILD)/fixture-ubsan-rootless $(ASAN_ROOTFS) || rc=1; exit $$rc

# Stage 8 with a deliberate UBSan report (a signed overflow) in the
# container after pivot_root, in rootless runs only: the harness runs
# those from a copy named /tmp/minidocker-nobody-XXXXXX. Generated from
# the stage, so it never drifts; the cmp fails the build if the sed stops
# matching.
$(BUILD)/fixtures/ubsan-rootless.c: stages/08-userns/main.c
	@mkdir -p $(dir $@)
	sed 's/^\texec_command(cfg->opts->argv);$$/\tif (strstr(cfg->rootfs, "\/minidocker-nobody-")) { volatile int big = INT_MAX; big += 1; }\n&/' $< > $@
	@! cmp -s $< $@ || { echo "hardening.mk: exec_command() call not found" >&2; exit 1; }

$(BUILD)/fixture-ubsan-rootless: $(BUILD)/fixtures/ubsan-rootless.c $(COMMON_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^

# The builds test-asan and valgrind run, and nothing else: `make test`
# runs this part beside the parts before them (TEST_BESIDE in the
# Makefile), where the other core waits on containers; each of the two
# then finds its build done. Into build/asan and build/dynamic only, so no
# part beside it sees a file of its own change.
build-hardening:
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory $(BUILD_JOBS) BUILD=$(ASAN_BUILD) CFLAGS="$(ASAN_CFLAGS)" \
		LDFLAGS="$(ASAN_LDFLAGS)" $(ASAN_BUILD)/fixture-ubsan-rootless
	@$(MAKE) --no-print-directory $(BUILD_JOBS) BUILD=$(VALGRIND_BUILD) STAGE_LDFLAGS= all

deps-valgrind:
	@tools/deps.sh valgrind $(DEPS_VALGRIND)

# Each stage's runtime under valgrind memcheck on a few runs, linked
# dynamically (memcheck replaces malloc and free through the loader).
VALGRIND_BUILD := $(BUILD)/dynamic
valgrind: deps-valgrind tests test-probe-rootfs
	@$(MAKE) --no-print-directory $(BUILD_JOBS) BUILD=$(VALGRIND_BUILD) STAGE_LDFLAGS= all
	tests/hardening/valgrind.sh $(VALGRIND_BUILD) $(TEST_ROOTFS) $(TEST_PROBE) $(TEST_RUNNER)
