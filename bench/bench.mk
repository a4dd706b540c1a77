# make bench: what isolation costs, beside unshare, bwrap, crun and runc.
# See bench/README.md. Everything goes into build/bench/.

BENCH_DIR    ?= build/bench
BENCH_BIN    := $(BENCH_DIR)/bin
BENCH_ROOTFS := $(BENCH_DIR)/rootfs
BENCH_CFLAGS := -O2 -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
# The stage the figures compare with: 6, else the highest there is.
BENCH_REF    := $(if $(filter 6,$(STAGE_NUMS)),6,$(LAST_STAGE))

.PHONY: bench bench-deps bench-build bench-rootfs bench-report bench-readme

# One step after the other: the tools first, then the -O2 stages, the
# root filesystem, the measurement.
bench:
	@[ "$$(id -u)" -eq 0 ] || { echo "make: bench needs root (namespaces, cgroups): run sudo make bench" >&2; exit 1; }
	@$(MAKE) --no-print-directory bench-deps
	@$(MAKE) --no-print-directory bench-build
	@$(MAKE) --no-print-directory bench-rootfs
	bench/bench.sh $(BENCH_DIR) $(BENCH_BIN) $(BENCH_ROOTFS)

bench-deps:
	@tools/deps.sh bench hyperfine crun runc bubblewrap gnuplot-nox time jq

# The stages again, -O2 and nothing else, in a build of their own so that
# the normal build (and its flags) stays untouched; the stage compared
# with once more, linked -static. CFLAGS goes through the environment: the Makefile
# appends the standard and the warnings to it.
bench-build: $(BENCH_DIR)/floor $(BENCH_DIR)/forkprobe $(BENCH_DIR)/bench-bomb
	@CFLAGS='-O2' $(MAKE) --no-print-directory BUILD=$(BENCH_BIN) all
	$(if $(BENCH_REF),@CFLAGS='-O2' LDFLAGS='-static' $(MAKE) --no-print-directory \
		BUILD=$(BENCH_DIR)/static $(BENCH_DIR)/static/stage-$(BENCH_REF))

bench-rootfs:
	./rootfs-fetch.sh --busybox $(BENCH_ROOTFS)

$(BENCH_DIR)/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

$(BENCH_DIR)/forkprobe: bench/forkprobe.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

# Static: it runs inside the busybox root filesystem, which has no libc.
$(BENCH_DIR)/bench-bomb: bench/bomb.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -static -o $@ $<

# The tables and the chart again from the last measurement.
bench-report:
	bench/report.sh $(BENCH_DIR)

# Replace the block between the bench markers in README.md with the last
# results.
bench-readme:
	bench/readme.sh README.md $(BENCH_DIR)/results.md
	cp $(BENCH_DIR)/bench.png bench/results.png

.PHONY: bench-vm

# Stage 9 (--memory 64m --cpus 1) against stage 8 on cgroup v2, inside the
# test VM (tests/vm): no hyperfine there, so bench/starttime times each
# line, hot and cold, and the ratios come back over the console. Set
# VM_ACCEL=kvm where /dev/kvm works: emulated, every figure is slower, but
# a ratio of one run still compares like with like.
bench-vm: $(VM_OUT)/vmcheck vm-static
	$(CC) $(BENCH_CFLAGS) -static -o $(VM_STATIC)/starttime bench/starttime.c
	install -m 755 bench/vm-bench.sh $(VM_STATIC)/vm-bench.sh
	$(VM_ENV) $(VM_SCRIPT) --bin $(VM_STATIC) --vmcheck $(VM_OUT)/vmcheck \
		--command /minidocker/build/vm-bench.sh --name bench-vm >$(VM_OUT)/bench-vm.log 2>&1 || \
		{ tail -n 20 $(VM_OUT)/bench-vm.log; exit 1; }
	@grep -a '^vm-bench' $(VM_OUT)/console.log | tee $(VM_OUT)/bench-vm.txt
