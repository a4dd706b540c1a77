# make bench: what isolation costs, beside unshare, bwrap, crun and runc.
# See bench/README.md. Everything goes into build/bench/.

BENCH_DIR    ?= build/bench
BENCH_BIN    := $(BENCH_DIR)/bin
BENCH_ROOTFS := $(BENCH_DIR)/rootfs
BENCH_CFLAGS := -O2 -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
# The stage the figures compare with: 6, else the highest there is.
BENCH_REF    := $(if $(filter 6,$(STAGE_NUMS)),6,$(LAST_STAGE))

.PHONY: bench bench-deps bench-build bench-rootfs bench-report bench-readme \
	bench-vm bench-image bench-image-rows bench-engines bench-engines-rows

# One step after the other: the tools first, then the -O2 stages, the
# root filesystem, the measurement, then the cold/hot ratio on cgroup v2 in
# the test VM (BENCH_VM=0 leaves it out).
bench:
	@[ "$$(id -u)" -eq 0 ] || { echo "make: bench needs root (namespaces, cgroups): run sudo make bench" >&2; exit 1; }
	@$(MAKE) --no-print-directory bench-deps
	@$(MAKE) --no-print-directory bench-build
	@$(MAKE) --no-print-directory bench-rootfs
	@rm -f $(BENCH_DIR)/vm.txt $(BENCH_DIR)/image.md $(BENCH_DIR)/engines.md
	bench/bench.sh $(BENCH_DIR) $(BENCH_BIN) $(BENCH_ROOTFS)
	@[ ! -x $(BENCH_BIN)/stage-13 ] || $(MAKE) --no-print-directory bench-image-rows || \
		echo "make: bench-image failed: no stage 13 rows in this run" >&2
	@[ ! -x $(BENCH_BIN)/stage-14 ] || $(MAKE) --no-print-directory bench-engines-rows || \
		echo "make: bench-engines failed: no rows of stages 14-16 in this run" >&2
	@[ "$(BENCH_VM)" = 0 ] || $(MAKE) --no-print-directory bench-vm || \
		echo "make: bench-vm failed: no cgroup v2 figures in this run" >&2
	bench/report.sh $(BENCH_DIR)

# DEPS_DRIVERS (tests/drivers/drivers.mk): what the drivers' tests' podman,
# taken out of its package, needs (conmon, containers-common, the
# libraries it links); none of it starts a service.
bench-deps:
	@tools/deps.sh bench $(sort hyperfine crun runc bubblewrap gnuplot-nox \
		time jq nftables iproute2 util-linux $(DEPS_DRIVERS))

# The stages again, -O2 and nothing else, in a build of their own so that
# the normal build (and its flags) stays untouched, linked statically as
# the normal build is; the stage compared with once more, linked
# dynamically, to show what the loader costs. CFLAGS goes through the
# environment: the Makefile appends the standard and the warnings to it.
bench-build: $(BENCH_DIR)/floor $(BENCH_DIR)/forkprobe $(BENCH_DIR)/bench-bomb \
		$(BENCH_DIR)/coldhot $(BENCH_DIR)/steps $(BENCH_DIR)/noop
	@CFLAGS='-O2' $(MAKE) --no-print-directory BUILD=$(BENCH_BIN) all
	$(if $(BENCH_REF),@CFLAGS='-O2' $(MAKE) --no-print-directory STAGE_LDFLAGS= \
		BUILD=$(BENCH_DIR)/dynamic $(BENCH_DIR)/dynamic/stage-$(BENCH_REF))

bench-rootfs:
	./rootfs-fetch.sh --busybox $(BENCH_ROOTFS)

# Static, as the stages are: the floor must not pay a loader they do not.
$(BENCH_DIR)/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -static -o $@ $<

$(BENCH_DIR)/noop: bench/noop.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -static -o $@ $<

$(BENCH_DIR)/coldhot: bench/coldhot.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -static -o $@ $<

$(BENCH_DIR)/steps: bench/steps.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

$(BENCH_DIR)/forkprobe: bench/forkprobe.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

# Static: it runs inside the busybox root filesystem, which has no libc.
$(BENCH_DIR)/bench-bomb: bench/bomb.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -static -o $@ $<

# Stage 6's cold start against its hot one on cgroup v2, in the test VM
# (tests/vm; software-emulated, so only the ratio means anything): the
# static build of test-vm plus bench/coldhot.c and the floor, with
# bench/vm.sh as the VM's program. The lines go to $(BENCH_DIR)/vm.txt,
# which bench-report puts into results.md.
bench-vm: $(VM_OUT)/vmcheck vm-static
	$(CC) $(BENCH_CFLAGS) -static -o $(VM_STATIC)/coldhot bench/coldhot.c
	$(CC) $(BENCH_CFLAGS) -static -o $(VM_STATIC)/floor bench/floor.c
	@mkdir -p $(BENCH_DIR)
	$(VM_ENV) $(VM_SCRIPT) --bin $(VM_STATIC) --vmcheck $(VM_OUT)/vmcheck \
		--program bench/vm.sh --name bench-vm
	grep -ao 'coldhot: .*' $(VM_OUT)/console.log > $(BENCH_DIR)/vm.txt
	@printf 'kernel\t%s\n' "$$(grep -ao 'kernel [^ ,]*' $(VM_OUT)/console.log | head -n 1 | cut -d' ' -f2)" >> $(BENCH_DIR)/vm.txt
	@cat $(BENCH_DIR)/vm.txt

# Stage 13's rows alone (bench/image.sh): pulls from the test registry
# against skopeo copy, and run IMAGE against stage 12, into
# $(BENCH_DIR)/image.md, which bench-report adds to results.md.
bench-image:
	@[ "$$(id -u)" -eq 0 ] || { echo "make: bench-image needs root (the registry's images keep their owners; namespaces): run sudo make bench-image" >&2; exit 1; }
	@$(MAKE) --no-print-directory bench-deps
	@tools/deps.sh bench-image $(DEPS_REGISTRY_TEST)
	@$(MAKE) --no-print-directory bench-build
	@$(MAKE) --no-print-directory bench-rootfs
	@$(MAKE) --no-print-directory bench-image-rows
	@cat $(BENCH_DIR)/image.md

bench-image-rows: $(REGISTRY_BIN)
	REGISTRY_BIN=$(REGISTRY_BIN) DRIVERS_BIN=$(DRIVERS_BIN) bench/image.sh $(BENCH_DIR) $(BENCH_BIN) $(BENCH_ROOTFS)

# The rows of stages 14-16 alone (bench/engines.sh): stage 14's bridge
# against ip and nft in a script and podman's, stage 15's exec and
# run -d + stop + rm against nsenter, crun and podman, stage 16's OCI
# lifecycle against crun and runc and under podman and Docker, into
# $(BENCH_DIR)/engines.md, which bench-report adds to results.md.
# podman and Docker (Debian's docker.io) are the drivers' tests' programs
# (DRIVERS_BIN, filled by tools/deb-bin.sh from their packages, or links
# to them when installed), never installed here: installing docker.io
# starts the host's own daemon, podman's package its services.
# BENCH_STAGE16=/usr/bin/crun runs stage 16's lines with crun in its
# place; BENCH_DOCKER=1 adds Docker's to a BENCH_QUICK run.
bench-engines:
	@[ "$$(id -u)" -eq 0 ] || { echo "make: bench-engines needs root (namespaces, cgroups, engines): run sudo make bench-engines" >&2; exit 1; }
	@$(MAKE) --no-print-directory bench-deps
	@$(MAKE) --no-print-directory bench-build
	@$(MAKE) --no-print-directory bench-rootfs
	@$(MAKE) --no-print-directory bench-engines-rows
	@cat $(BENCH_DIR)/engines.md

bench-engines-rows: $(BENCH_DIR)/steps $(BENCH_DIR)/noop $(BENCH_DIR)/floor
	DRIVERS_BIN=$(DRIVERS_BIN) bench/engines.sh $(BENCH_DIR) $(BENCH_BIN) $(BENCH_ROOTFS)

# The tables and the chart again from the last measurement.
bench-report:
	bench/report.sh $(BENCH_DIR)

# Replace the block between the bench markers in bench/README.md with the
# last results, and the chart README.md and TUTORIAL.md show.
bench-readme:
	bench/readme.sh bench/README.md $(BENCH_DIR)/results.md
	cp $(BENCH_DIR)/bench.png bench/results.png
