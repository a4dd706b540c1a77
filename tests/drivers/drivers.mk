# Suite 16's outside drivers: Docker (a dockerd of the test's own) and
# podman run the busybox test root filesystem with RUNTIME as their OCI
# runtime, in a mount and network namespace of the test's own. RUNTIME
# is stage 16 by default; RUNTIME=/usr/bin/crun proves the harness.
# DRIVERS= picks docker, podman or both.
RUNTIME ?= $(BUILD)/stage-16
DRIVERS ?= docker podman

# Their packages' maintainer scripts enable and start system services on
# a host that runs systemd: docker.io docker.service and docker.socket
# (a bridge, iptables rules), containerd containerd.service, podman
# podman.socket (a root API socket), podman.service, podman-restart and
# the daily podman-auto-update.timer. So their programs come unpacked,
# not installed, into DRIVERS_BIN (tools/deb-bin.sh, run by drivers.sh):
# dockerd, docker, containerd, containerd-shim-runc-v2, podman. What they
# need is installed: none of it starts a system service. runc is dockerd's
# default runtime (it will not start without it), conmon and
# containers-common podman's, the libraries the unpacked programs link,
# procps the ps that docker top runs. Not needed: docker-init and tini
# (--init), docker-proxy (no published port), iptables (--iptables=false),
# slirp4netns, uidmap, catatonit (rootless, --init).
DRIVERS_BIN := $(BUILD)/tools/drivers
DEPS_DRIVERS := crun runc conmon golang-github-containers-common \
	libdevmapper1.02.1 libgpgme11 libseccomp2 libsubid4 libsystemd0 \
	procps busybox-static util-linux iproute2

TEST_PARTS += test-drivers
DEPS_TEST += $(if $(filter test-drivers,$(TEST_PARTS)),$(DEPS_DRIVERS))

# RUNTIME left to stage 16: built first when stage 16 is a stage (its
# spine, stages/16-oci/main.c, exists); when it is not, the part says so
# and fails.
ifeq ($(RUNTIME),$(BUILD)/stage-16)
ifeq ($(filter 16,$(STAGE_NUMS)),)
DRIVERS_MISSING := stage 16 not built: it has no spine (stages/16-oci/main.c) yet; RUNTIME=/usr/bin/crun runs it against crun
else
DRIVERS_RUNTIME := $(BUILD)/stage-16
endif
endif
define drivers_runtime
	@if [ -n "$(DRIVERS_MISSING)" ]; then \
		echo "make: $@ skipped: $(DRIVERS_MISSING)" >&2; exit 1; fi
	@if [ ! -x "$(RUNTIME)" ]; then \
		echo "make: $@ skipped: no runtime at '$(RUNTIME)'" >&2; exit 1; fi
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: $@ skipped: it needs root (dockerd, namespaces, cgroups): run sudo make $@" >&2; \
		exit 1; fi
endef

.PHONY: test-drivers

# About 25 seconds under load: dockerd started and stopped, 12 containers,
# the two drivers and three groups of checks each at once.
test-drivers: $(TEST_ROOTFS)/.rootfs-ok $(DRIVERS_RUNTIME)
	$(drivers_runtime)
	@tools/deps.sh test-drivers $(DEPS_DRIVERS)
	DRIVERS_BIN=$(DRIVERS_BIN) timeout -k 10 240 tests/drivers/drivers.sh \
		$(RUNTIME) $(TEST_ROOTFS) $(DRIVERS)

# The proofs that its checks fail for their reason: RUNTIME behind
# wrappers that each take one thing away (the hostname, the pid
# namespace, kill, delete). Some minutes (a runtime that ignores kill
# waits out the checks' timeouts): not in TEST_PARTS.
.PHONY: prove-drivers
prove-drivers: $(TEST_ROOTFS)/.rootfs-ok $(DRIVERS_RUNTIME)
	$(drivers_runtime)
	@tools/deps.sh prove-drivers $(DEPS_DRIVERS) python3
	DRIVERS_BIN=$(DRIVERS_BIN) timeout -k 10 900 tests/drivers/prove.sh \
		$(RUNTIME) $(TEST_ROOTFS)
