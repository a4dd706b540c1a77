# The CUnit runner, the probe, and the test targets.

TEST_RUNNER := $(BUILD)/tests/runner
TEST_PROBE  := $(BUILD)/tests/probe
TEST_ROOTFS ?= $(BUILD)/test-rootfs
TEST_SRC    := tests/runner.c tests/harness.c tests/test_common.c \
	$(wildcard tests/suite_*.c)
TEST_OBJ    := $(TEST_SRC:%.c=$(BUILD)/%.o)
TEST_FIXTURES := $(BUILD)/fixture-no-private

.PHONY: tests test-host test-common test-probe-rootfs \
	$(STAGE_NUMS:%=test-stage-%) $(STAGE_NUMS:%=prove-%)

tests: $(TEST_RUNNER) $(TEST_PROBE) $(TEST_FIXTURES)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -c -o $@ $<

$(TEST_RUNNER): $(TEST_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit

# Stage 5 with its lesson taken out: CLONE_NEWNS but no private remount
# (the Go post's bug). Generated from the stage, so it never drifts; the
# cmp fails the build if the sed stops matching.
$(BUILD)/fixtures/no-private.c: stages/05-mount/main.c
	@mkdir -p $(dir $@)
	sed '/^\tmake_mounts_private();$$/d' $< > $@
	@! cmp -s $< $@ || { echo "tests.mk: make_mounts_private() call not found" >&2; exit 1; }

$(BUILD)/fixture-no-private: $(BUILD)/fixtures/no-private.c $(COMMON_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-function $(LDFLAGS) -o $@ $^

# Static, so it runs inside any root filesystem.
$(TEST_PROBE): tests/probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -o $@ $<

# The probe goes into the test root filesystem as /bin/probe.
$(TEST_ROOTFS)/bin/probe: $(TEST_PROBE) $(TEST_ROOTFS)/.rootfs-ok
	cp $(TEST_PROBE) $@

test-probe-rootfs: $(TEST_ROOTFS)/bin/probe

test-common: tests
	$(TEST_RUNNER) --bin $(BUILD) --stage 1 --common 2>&1 | tail -n 30

# Suites 1..N against stage N.
$(STAGE_NUMS:%=test-stage-%): test-stage-%: $(BUILD)/stage-% tests test-probe-rootfs
	$(TEST_RUNNER) --bin $(BUILD) --rootfs $(TEST_ROOTFS) --stage $*

# Each stage's new tests against the stage before, where they must fail.
$(STAGE_NUMS:%=prove-%): prove-%: $(BUILD)/stage-% tests test-probe-rootfs
	@if [ $* -le 1 ]; then echo "make: stage 1 has no stage before it: nothing to prove" >&2; exit 2; fi
	@p=$$(($* - 1)); $(MAKE) --no-print-directory $(BUILD)/stage-$$p
	$(TEST_RUNNER) --bin $(BUILD) --rootfs $(TEST_ROOTFS) --stage $* --prove

# Every suite against every stage, the proofs, and the common suite.
test-host: all tests test-probe-rootfs
	$(TEST_RUNNER) --bin $(BUILD) --rootfs $(TEST_ROOTFS) --common --prove

-include $(TEST_OBJ:.o=.d)
