# Suite 16's bundles: the same generated config.json variants under crun
# and under RUNTIME, compared line for line, and RUNTIME's lifecycle and
# bad input (tests/bundles/bundles.sh). RUNTIME is stage 16 once it is
# built; proven with RUNTIME=/usr/bin/crun (crun against itself) and
# BUNDLES_REFERENCE=/usr/sbin/runc.
# (RUNTIME given on the command line or in the environment; not
# drivers.mk's default, which is crun until stage 16 drives Docker.)
RUNTIME_BUNDLES = $(if $(filter command line environment,$(origin RUNTIME)),$(RUNTIME),$(BUILD)/stage-16)
BUNDLES_REAPER := $(BUILD)/tests/bundles/reaper

DEPS_BUNDLES := crun jq busybox-static iproute2 util-linux

TEST_PARTS += test-bundles
DEPS_TEST += $(DEPS_BUNDLES)

.PHONY: test-bundles prove-bundles

$(BUNDLES_REAPER): tests/bundles/reaper.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# About 30 seconds: two dozen containers, each created, started, waited
# for and deleted.
test-bundles: $(BUNDLES_REAPER) test-probe-rootfs
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: test-bundles skipped: it needs root (namespaces, cgroups): run sudo make test-bundles" >&2; \
		exit 1; fi
	@if [ ! -x "$(RUNTIME_BUNDLES)" ]; then \
		echo "make: test-bundles skipped: no runtime at '$(RUNTIME_BUNDLES)' (make stage-16, or RUNTIME=/usr/bin/crun)" >&2; \
	else \
		tools/deps.sh test-bundles $(DEPS_BUNDLES) && \
		echo "tests/bundles/bundles.sh $(RUNTIME_BUNDLES) $(TEST_ROOTFS) $(BUNDLES_REAPER)" && \
		timeout -k 10 180 tests/bundles/bundles.sh $(RUNTIME_BUNDLES) $(TEST_ROOTFS) $(BUNDLES_REAPER); \
	fi

# The proofs that its checks fail for their reason: RUNTIME behind
# wrappers that each change one thing (a field of config.json before
# create, delete made --force, a second line on stderr, status 0 for one
# command, state saying running), each run on the one part it is about.
# Two minutes on a busy machine: not in TEST_PARTS.
prove-bundles: $(BUNDLES_REAPER) test-probe-rootfs
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: prove-bundles skipped: it needs root: run sudo make prove-bundles" >&2; \
		exit 1; fi
	@if [ ! -x "$(RUNTIME_BUNDLES)" ]; then \
		echo "make: prove-bundles skipped: no runtime at '$(RUNTIME_BUNDLES)' (make stage-16, or RUNTIME=/usr/bin/crun)" >&2; \
	else \
		tools/deps.sh prove-bundles $(DEPS_BUNDLES) && \
		timeout -k 10 600 tests/bundles/prove.sh $(RUNTIME_BUNDLES) $(TEST_ROOTFS) $(BUNDLES_REAPER); \
	fi
