# The cgroup v2 tests in a qemu VM (see tests/vm/README.md).
#
#   make test-vm            every suite, with --prove, inside the VM, on
#                           the static stages; then on the last
#                           dynamically linked stage the cgroup suites,
#                           the registry's (13), the network (14) and
#                           detached containers (15)
#   make test-vm-smoke      boot and check cgroup2 + pids only (seconds)
#   make test-vm-selfcheck  boot with the pids controller disabled and
#                           expect the VM run to report FAIL
#   make vm-kernel          fetch and unpack the kernel into the cache
#
# VM_TIMEOUT, VM_ACCEL=kvm, VM_MEM, VM_SMP, VM_RUNNER_ARGS and
# VM_DYNAMIC_ARGS tune the run.

# Fixed, not under $(BUILD): the static sub-make below runs this file again
# with BUILD=$(VM_STATIC), and the kernel cache must stay where it is.
VM_OUT         ?= build/vm
VM_STATIC      ?= $(VM_OUT)/static
VM_RUNNER_ARGS ?= --common --prove
VM_SCRIPT      := tests/vm/run-vm.sh
VM_ENV          = VM_OUT=$(VM_OUT)

.PHONY: test-vm test-vm-smoke test-vm-selfcheck vm-kernel vm-static vm-registry

# For `make test`; run-vm.sh installs them too (tools/deps.sh) when run alone.
DEPS_TEST  += qemu-system-x86 xz-utils cpio gzip busybox-static
# After test-vm, the proof that it can fail.
TEST_PARTS += test-vm-selfcheck

# The smoke check runs as the VM's first program; the VM has no C library.
# It links common/file.c for write_file(), and nothing else of the code
# under test: the check must not share a mistake with what it vets.
$(VM_OUT)/vmcheck: tests/vm/vmcheck.c common/file.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -static -o $@ $^

vm-kernel:
	$(VM_ENV) $(VM_SCRIPT) --kernel-only

# Every stage, the runner and the probe, linked statically into
# $(VM_STATIC), and the busybox test rootfs with that probe in it
# (rootfs-fetch.sh leaves a complete tree as it is). Without root it has no
# device nodes; the VM's /init, root inside, makes them.
# A stage whose libraries have no static build (STAGE_DYNAMIC_N: stages
# 13 and 14, and stage 13's fixture no-digest-check) is not among them
# (stage 13 itself is static, but pulls in its dynamic twin: the
# Makefile's STAGE_TWIN_N):
# the runner runs every stage it finds there, with every suite. Nor can
# the runner link suite 14's libraries there (RUNNER_NET=).
VM_STAGES   := $(foreach n,$(STAGE_NUMS),$(if $(STAGE_DYNAMIC_$(n)),,$(n)))
VM_FIXTURES := $(filter-out $(FIXTURES_DYNAMIC),$(FIXTURE_NAMES))

# The last dynamically linked stage runs in the VM as it is built for the
# host ($(BUILD)/stage-N): run-vm.sh --dynamic copies it with its dynamic
# loader and the libraries ldd lists, at the same absolute paths, and runs
# the static runner a second time, on it alone, with VM_DYNAMIC_ARGS.
# Every later stage shares stage 9's limits.c and the cgroup code of
# common/, so the last one vets the v2 paths of those before it. Only the
# suites that meet the kernel's cgroup v2: the smoke suite, 6-cgroup,
# 9-limits, of suite 8 the rootless limit in a delegated v2 group, and of
# suite 16 the device rules (a BPF program attached to the group)
# (the earlier suites' runs get --net none from the harness). About 18 s
# under TCG; suites 1-escapes (12 s) and 6-badinput (15 s) were left out.
# And suite 13, the pull from a real registry (as root: the images are
# made with umoci, which keeps their owners only as root): its images are
# built and pushed on the host into a registry's storage
# (tests/registry/registry.sh --prepare, $(VM_REGISTRY)), and inside the
# VM the suite's registry.sh serves that storage with Debian's
# docker-registry and the token endpoint on the VM's loopback
# (run-vm.sh --registry). The stores are on an ext4 disk (--ext4-tmp): a
# pull marks opaque directories with user.* extended attributes, which
# the kernel's tmpfs has only from Linux 6.6 on (Debian 12's is 6.1).
# And suites 14 and 15, the network and detached containers: they need
# the runner's network helpers (RUNNER_NET), which the static runner
# cannot link, so this run's runner is the host's own, copied with its
# libraries (--runner), and the kernel's veth, bridge, nf_tables and tun
# modules, which /init loads. Every test of suite 14 makes its own
# network namespaces, as on the host; the VM is a machine of its own,
# and no packet leaves it (qemu -nodefaults: no network card).
# The VM gets the libraries the stage loads only for a pull or a network
# (common/lazy.h, VM_LIBS) and the host programs the suites and
# registry.sh call (VM_TOOLS): bash, curl and ss for registry.sh; GNU
# find (-printf) and util-linux's script, which busybox's lack;
# newuidmap and newgidmap for the rootless pull with subordinate ids;
# iproute2's ip and slirp4netns for suite 14.
# Of suites 15 and 16, the tests whose paths differ on cgroup v2 (the
# monitor removing the groups, exec entering them, rootless create with
# no group); the rest of them runs on the host, within make test's time.
# No --prove: the static run proves suites 6 and 9 on the stages before,
# and the proofs of suites 13 to 15 are fixtures and stages that make
# test runs on the host.
VM_DYNAMIC      := $(lastword $(foreach n,$(STAGE_NUMS),$(if $(STAGE_DYNAMIC_$(n)),$(n))))
VM_ROOT         := $(shell [ "$$(id -u)" -eq 0 ] && echo yes)
VM_DYNAMIC_ARGS ?= --only 0-smoke --only 6-cgroup --only 9-limits \
	--only test_rootless_limit_only_where_delegated \
	--only test_device_rules_deny_what_they_do_not_allow \
	$(if $(VM_ROOT),--only 13-image) --only 14-net \
	--only test_detached_returns_at_once_ps_logs_stop_rm \
	--only test_killed_monitor_shows_dead_reaped_next_run \
	--only test_exec_joins_cgroup_ns \
	--only test_exec_counts_against_pids_max \
	--only test_rootless_create_without_cgroup
# The binary of that stage (another stage-N, a fixture copied under that
# name, to see the VM run fail: tests/vm/README.md). A stage linked
# statically with a twin (the Makefile's STAGE_TWIN_N: stages 15 and 16)
# is built again in $(VM_DYNAMIC_DIR), dynamically, as `make asan`
# builds it: the same sources, whose pull and rules run in place.
VM_DYNAMIC_DIR  := $(VM_OUT)/dynamic
VM_DYNAMIC_TWIN := $(if $(VM_DYNAMIC),$(call stage_twin,$(VM_DYNAMIC)))
VM_DYNAMIC_BIN  ?= $(VM_DYNAMIC:%=$(if $(VM_DYNAMIC_TWIN),$(VM_DYNAMIC_DIR),$(BUILD))/stage-%)
.PHONY: vm-dynamic
vm-dynamic:
	$(MAKE) --no-print-directory BUILD=$(VM_DYNAMIC_DIR) STAGE_LDFLAGS= \
		$(VM_DYNAMIC_DIR)/stage-$(VM_DYNAMIC)
VM_REGISTRY     := $(VM_OUT)/registry
VM_TOOLS        := bash curl ss find script newuidmap newgidmap ip slirp4netns
VM_LIBS         := libcurl.so.4 libarchive.so.13 libcrypto.so.3 libnftables.so.1
# The packages behind VM_TOOLS and VM_LIBS, and registry.sh's.
DEPS_VM_IMAGE    = $(DEPS_REGISTRY_TEST) $(DEPS_NET_TEST) uidmap findutils \
	e2fsprogs
DEPS_TEST       += $(DEPS_VM_IMAGE)
vm-static:
	$(MAKE) $(BUILD_JOBS) BUILD=$(VM_STATIC) LDFLAGS=-static RUNNER_NET= \
		$(VM_STAGES:%=$(VM_STATIC)/stage-%) tests \
		$(VM_FIXTURES:%=$(VM_STATIC)/fixture-%)
	./rootfs-fetch.sh --busybox $$([ "$$(id -u)" -eq 0 ] || echo --no-dev) \
		$(VM_STATIC)/test-rootfs
	cp $(VM_STATIC)/tests/probe $(VM_STATIC)/test-rootfs/bin/probe

# Suite 13's images, made afresh each time (about 5 s): the token in
# there expires after a day.
vm-registry: vm-static $(REGISTRY_BIN)
	@tools/deps.sh test-vm $(DEPS_VM_IMAGE)
	REGISTRY_BIN=$(REGISTRY_BIN) tests/registry/registry.sh --prepare \
		$(VM_REGISTRY) $(VM_STATIC)/test-rootfs

test-vm: $(VM_OUT)/vmcheck vm-static \
		$(if $(VM_DYNAMIC_TWIN),vm-dynamic,$(VM_DYNAMIC_BIN)) \
		$(TEST_RUNNER) $(if $(VM_ROOT),vm-registry)
	@[ -n "$(VM_ROOT)" ] || echo "test-vm: suite 13 left out: its images are made as root (sudo make test-vm)" >&2
	@tools/deps.sh test-vm $(DEPS_VM_IMAGE)
	$(VM_ENV) $(VM_SCRIPT) --bin $(VM_STATIC) --vmcheck $(VM_OUT)/vmcheck \
		$(if $(VM_DYNAMIC_BIN),--dynamic $(VM_DYNAMIC_BIN) \
			--dynamic-args '$(VM_DYNAMIC_ARGS)' \
			--runner $(TEST_RUNNER) --ext4-tmp \
			$(if $(VM_ROOT),--registry $(VM_REGISTRY) --tool $(REGISTRY_BIN)) \
			$(foreach t,$(VM_TOOLS),--tool "$$(command -v $(t))") \
			$(VM_LIBS:%=--lib %)) \
		-- $(VM_RUNNER_ARGS)

test-vm-smoke: $(VM_OUT)/vmcheck
	$(VM_ENV) $(VM_SCRIPT) --smoke-only --vmcheck $(VM_OUT)/vmcheck \
		--name test-vm-smoke

# The proof that test-vm can fail: without the pids controller the smoke
# check must fail and the VM run must say FAIL.
test-vm-selfcheck: $(VM_OUT)/vmcheck
	$(VM_ENV) $(VM_SCRIPT) --expect-smoke-fail --append cgroup_disable=pids \
		--vmcheck $(VM_OUT)/vmcheck --name test-vm-selfcheck
