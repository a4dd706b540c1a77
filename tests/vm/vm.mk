# The cgroup v2 tests in a qemu VM (see tests/vm/README.md).
#
#   make test-vm            every suite, with --prove, inside the VM, on
#                           the static stages; then the cgroup suites on
#                           the last dynamically linked stage
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

.PHONY: test-vm test-vm-smoke test-vm-selfcheck vm-kernel vm-static

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
# 13 and 14, and stage 13's fixture no-digest-check) is not among them:
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
# Not suites 13 and 14, which the VM cannot host: 13 pulls from a
# registry (Debian's docker-registry, tests/registry/registry.sh), 14 needs
# the runner's network helpers (RUNNER_NET, left out of the static runner)
# and both the libraries the stage loads only for a pull or a network
# (common/lazy.h: libcurl, libarchive, libcrypto, libnftables), which are
# not copied. No --prove: the static run proves suites 6 and 9 on the
# stages before.
VM_DYNAMIC      := $(lastword $(foreach n,$(STAGE_NUMS),$(if $(STAGE_DYNAMIC_$(n)),$(n))))
VM_DYNAMIC_ARGS ?= --only 0-smoke --only 6-cgroup --only 9-limits \
	--only test_rootless_limit_only_where_delegated \
	--only test_device_rules_deny_what_they_do_not_allow
vm-static:
	$(MAKE) $(BUILD_JOBS) BUILD=$(VM_STATIC) LDFLAGS=-static RUNNER_NET= \
		$(VM_STAGES:%=$(VM_STATIC)/stage-%) tests \
		$(VM_FIXTURES:%=$(VM_STATIC)/fixture-%)
	./rootfs-fetch.sh --busybox $$([ "$$(id -u)" -eq 0 ] || echo --no-dev) \
		$(VM_STATIC)/test-rootfs
	cp $(VM_STATIC)/tests/probe $(VM_STATIC)/test-rootfs/bin/probe

test-vm: $(VM_OUT)/vmcheck vm-static $(VM_DYNAMIC:%=$(BUILD)/stage-%)
	$(VM_ENV) $(VM_SCRIPT) --bin $(VM_STATIC) --vmcheck $(VM_OUT)/vmcheck \
		$(if $(VM_DYNAMIC),--dynamic $(BUILD)/stage-$(VM_DYNAMIC) \
			--dynamic-args '$(VM_DYNAMIC_ARGS)') \
		-- $(VM_RUNNER_ARGS)

test-vm-smoke: $(VM_OUT)/vmcheck
	$(VM_ENV) $(VM_SCRIPT) --smoke-only --vmcheck $(VM_OUT)/vmcheck \
		--name test-vm-smoke

# The proof that test-vm can fail: without the pids controller the smoke
# check must fail and the VM run must say FAIL.
test-vm-selfcheck: $(VM_OUT)/vmcheck
	$(VM_ENV) $(VM_SCRIPT) --expect-smoke-fail --append cgroup_disable=pids \
		--vmcheck $(VM_OUT)/vmcheck --name test-vm-selfcheck
