# Suite 16's outside drivers: Docker (a dockerd of the test's own) and
# podman run the busybox test root filesystem with RUNTIME as their OCI
# runtime, in a mount and network namespace of the test's own. Proven
# with crun; the stage-16 spine runs it with RUNTIME=$(BUILD)/stage-16.
# DRIVERS= picks docker, podman or both.
RUNTIME ?= /usr/bin/crun
DRIVERS ?= docker podman

# Debian's Docker (dockerd, containerd, its shim) and podman (conmon);
# crun is the runtime that proves the harness.
# On a host that runs systemd, installing docker.io enables and starts
# the host's own docker.service (its bridge and iptables rules) unless
# /usr/sbin/policy-rc.d forbids it: the test itself never uses it.
# So they are not in DEPS_TEST, and test-drivers is not a part of make
# test yet: until stage 16's spine is what it drives, it proves only that
# crun works, and installing docker.io would start a daemon with a bridge
# and firewall rules on a learner's machine. Before it joins make test,
# dockerd and its helpers come unpacked, not installed (tools/deb-bin.sh,
# as docker-registry does).
DEPS_DRIVERS := docker.io podman crun busybox-static util-linux iproute2

.PHONY: test-drivers

# About 40 seconds: dockerd started and stopped, some 30 containers.

test-drivers: $(TEST_ROOTFS)/.rootfs-ok
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: test-drivers skipped: it needs root (dockerd, namespaces, cgroups): run sudo make test-drivers" >&2; \
		exit 1; fi
	@tools/deps.sh test-drivers $(DEPS_DRIVERS)
	timeout -k 10 240 tests/drivers/drivers.sh $(RUNTIME) $(TEST_ROOTFS) $(DRIVERS)

# The proofs that its checks fail for their reason: RUNTIME behind
# wrappers that each take one thing away (the hostname, the pid
# namespace, kill, delete). Some minutes (a runtime that ignores kill
# waits out the checks' timeouts): not in TEST_PARTS.
.PHONY: prove-drivers
prove-drivers: $(TEST_ROOTFS)/.rootfs-ok
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: prove-drivers skipped: it needs root: run sudo make prove-drivers" >&2; \
		exit 1; fi
	@tools/deps.sh prove-drivers $(DEPS_DRIVERS) python3
	timeout -k 10 900 tests/drivers/prove.sh $(RUNTIME) $(TEST_ROOTFS)
