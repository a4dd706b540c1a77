# The cgroup v2 tests in a qemu VM (see tests/vm/README.md).
#
#   make test-vm            every suite, with --prove, inside the VM
#   make test-vm-smoke      boot and check cgroup2 + pids only (seconds)
#   make test-vm-selfcheck  boot with the pids controller disabled and
#                           expect the VM run to report FAIL
#   make vm-kernel          fetch and unpack the kernel into the cache
#
# VM_TIMEOUT, VM_ACCEL=kvm, VM_MEM, VM_SMP and VM_RUNNER_ARGS tune the run.

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
# A stage whose libraries have no static build (STAGE_DYNAMIC_N: stage 13
# and its fixture no-digest-check) cannot run in the VM's initramfs: the
# runner runs the stages it finds. Their cgroup code is stage 12's. Nor
# can the runner link suite 14's libraries there (RUNNER_NET=).
VM_STAGES   := $(foreach n,$(STAGE_NUMS),$(if $(STAGE_DYNAMIC_$(n)),,$(n)))
VM_FIXTURES := $(filter-out no-digest-check,$(FIXTURE_NAMES))
vm-static:
	$(MAKE) BUILD=$(VM_STATIC) LDFLAGS=-static RUNNER_NET= \
		$(VM_STAGES:%=$(VM_STATIC)/stage-%) tests \
		$(VM_FIXTURES:%=$(VM_STATIC)/fixture-%)
	./rootfs-fetch.sh --busybox $$([ "$$(id -u)" -eq 0 ] || echo --no-dev) \
		$(VM_STATIC)/test-rootfs
	cp $(VM_STATIC)/tests/probe $(VM_STATIC)/test-rootfs/bin/probe

test-vm: $(VM_OUT)/vmcheck vm-static
	$(VM_ENV) $(VM_SCRIPT) --bin $(VM_STATIC) --vmcheck $(VM_OUT)/vmcheck \
		-- $(VM_RUNNER_ARGS)

test-vm-smoke: $(VM_OUT)/vmcheck
	$(VM_ENV) $(VM_SCRIPT) --smoke-only --vmcheck $(VM_OUT)/vmcheck \
		--name test-vm-smoke

# The proof that test-vm can fail: without the pids controller the smoke
# check must fail and the VM run must say FAIL.
test-vm-selfcheck: $(VM_OUT)/vmcheck
	$(VM_ENV) $(VM_SCRIPT) --expect-smoke-fail --append cgroup_disable=pids \
		--vmcheck $(VM_OUT)/vmcheck --name test-vm-selfcheck
