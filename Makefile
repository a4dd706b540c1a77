# minidocker: build, test, grade, bench, diff, tutorial checks.
# Run `make help` for the targets.

CC      ?= cc
CFLAGS  ?= -O2 -g
# override: `make asan` and `make CFLAGS=...` add to these, never drop them.
override CFLAGS += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
CPPFLAGS += -Icommon -MMD -MP
BUILD   ?= build

# Stage N lives in stages/0N-slug/ (for example stages/04-chroot/); a
# directory without its main.c (a lesson file ahead of its spine) is not
# a stage yet.
STAGE_DIRS := $(sort $(patsubst %/main.c,%,$(wildcard stages/[0-9][0-9]-*/main.c)))
STAGE_NUMS := $(foreach d,$(STAGE_DIRS),$(patsubst 0%,%,$(firstword $(subst -, ,$(notdir $(d))))))
LAST_STAGE := $(lastword $(STAGE_NUMS))
stage_dir   = $(firstword $(wildcard stages/$(shell printf %02d $(1))-*))

# The builds inside the parts of `make test` (compiling, never a test:
# the parts and their tests run one at a time) use every core; make test
# itself runs without -j.
BUILD_JOBS ?= -j$(shell nproc 2>/dev/null || echo 1)

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)

.PHONY: all help clean format asan run test deps-run deps-test \
	$(STAGE_NUMS:%=stage-%) $(STAGE_NUMS:%=diff-%)

all: $(STAGE_NUMS:%=$(BUILD)/stage-%)

help:
	@echo "make run           a shell in a container of the last stage (root)"
	@echo "make stage-N       build build/stage-N (N in $(STAGE_NUMS))"
	@echo "make all           build every stage"
	@echo "make test          every suite, cumulative, and the proofs that each"
	@echo "                   stage's new tests fail on the stage before (root)"
	@echo "make test-stage-N  suites 1..N against build/stage-N"
	@echo "make prove-N       also stage N's new tests against stage N-1"
	@echo "make rootfs        ./rootfs from ./rootfs-fetch.sh (busybox, offline)"
	@echo "make test-rootfs   rootfs-fetch.sh's own tests (root)"
	@echo "make test-registry common/image/ against a real registry (root)"
	@echo "make test-net      stage 14's network plumbing and lesson, in namespaces of its own (root)"
	@echo "make test-exec     stage 15's terminal, exec, monitor and records, in namespaces of its own (root)"
	@echo "make prove-exec    each step of stage 15's lesson taken out fails its test-exec test (root)"
	@echo "make test-oci      stage 16's config.json, state, fifo, hooks and kill (crun's too, as root)"
	@echo "make prove-oci     each step of stage 16's lesson taken out fails its test-oci test"
	@echo "make test-drivers  Docker and podman drive RUNTIME (stage 16 by default) in namespaces of their own (root)"
	@echo "make prove-drivers each check of test-drivers fails with a runtime that skips its step (root, minutes)"
	@echo "make test-vm       the suites in a qemu VM on cgroup v2 (root)"
	@echo "make test-setup    the README's set-up commands, and a checkout under 0750"
	@echo "make test-vm-smoke boot the VM, check cgroup2 + pids only"
	@echo "make test-vm-selfcheck  prove test-vm fails without pids"
	@echo "make grade         score every stage: table and JSON (root)"
	@echo "make grade-stage-N score one stage"
	@echo "make student DEST=dir  a copy with each stage's lesson stubbed"
	@echo "make doctor        what this machine allows, and how to fix it"
	@echo "make test-classroom  grade, student and doctor's own tests"
	@echo "make classroom-config  regenerate .github/classroom/ and the workflow"
	@echo "make diff-N        the change from stage N-1 to stage N"
	@echo "make tutorial      regenerate TUTORIAL.md's diffs, code and sessions"
	@echo "make check-tutorial  fail if TUTORIAL.md no longer matches the code"
	@echo "make asan          the same programs built with ASan and UBSan"
	@echo "make test-asan     the suites against the ASan+UBSan build"
	@echo "make valgrind      the runtimes' parent side under memcheck"
	@echo "make test-stress   500 containers in a row, 20 at once: nothing left"
	@echo "make fuzz          the argument parser under libFuzzer (FUZZ_TIME=30)"
	@echo "make format        clang-format the C sources"
	@echo "make clean         unmount what is under build/, then remove it"

$(BUILD)/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# A stage's sources: stages 1-8 are their main.c alone; from stage 9 a
# stage's stage.mk lists them (STAGE_SRC_N: its spine, its lesson file and
# the earlier lessons it builds with, as they are) and the libraries it
# links (STAGE_LIBS_N).
include $(wildcard stages/*/stage.mk)
stage_src  = $(or $(STAGE_SRC_$(1)),$(call stage_dir,$(1))/main.c)
stage_objs = $(patsubst %.c,$(BUILD)/%.o,$(call stage_src,$(1)))
STAGE_OBJS := $(sort $(foreach n,$(STAGE_NUMS),$(call stage_objs,$(n))))

$(BUILD)/stages/%.o: stages/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# A spine includes the headers of the lessons it calls: each beside its
# file, wherever the stage's list takes it from. The spine is main.c, the
# first source, or the files STAGE_SPINE_N lists (main.c and the commands
# split off it, stages 15 and 16).
stage_spine = $(or $(STAGE_SPINE_$(1)),$(firstword $(call stage_src,$(1))))
$(foreach n,$(STAGE_NUMS),$(eval $(patsubst %.c,$(BUILD)/%.o,$(call \
	stage_spine,$(n))): CPPFLAGS += $(patsubst %,-iquote %,$(sort $(dir $(call stage_src,$(n)))))))

# build/stage-N from its sources, linked with common/, statically: the
# dynamic loader would take about 0.25 ms of every start (make bench).
# ASan and valgrind need the dynamic link: `make asan` and `make valgrind`
# build with STAGE_LDFLAGS empty. A stage whose libraries have no static
# build says STAGE_DYNAMIC_N := yes in its stage.mk (stages 13-16:
# libcurl), and links other objects than its sources in STAGE_OBJ_N
# (common/image/).
STAGE_LDFLAGS ?= -static
# Such a stage still takes in the libraries Debian does ship an archive of
# (STATIC_ARCHIVES) when STAGE_LDFLAGS asks for static links, and binds
# its symbols at load (-z now) rather than at each first call: a shared
# library is mapped, relocated and copied into the child at every start,
# and a symbol bound lazily is bound again, a page copied, in the child.
# Stage 13's run of /bin/true: 224 page faults with both shared, 208 with
# both in, 195 bound at load (stage 12: 152); 1.23x stage 12's start
# before, 1.16x after (medians of runs taken in turn). Only glibc is left
# to the dynamic loader, and it is most of what is left (stage 13
# linked wholly static starts in 1.06x). glibc's dlopen() from a static program is no way out: it
# loads a second libc.so, and libcurl's resolver thread, started through
# it, crashes the first pull by host name.
STATIC_ARCHIVES := -lseccomp -ljansson
BSTATIC  := -Wl,-Bstatic
BDYNAMIC := -Wl,-Bdynamic
BINDNOW  := -Wl,-z,now
# Even so, the loader left more than stage 13's budget (a run within 1.1x
# of stage 12's): stage 12's own objects linked as above start in 1.12x
# to 1.14x of its static build, much of it in the clone of the container's
# child, which copies the page tables of libc and the loader too. So a
# stage that says STAGE_TWIN_N := yes (stages 13, 15 and 16) is linked
# statically after all, with STAGE_OBJ_N's libraries compiled without
# dlopen() (LAZY_STATIC, common/lazy.h), and runs what needs them in its
# twin, build/stage-N-dynamic: the same sources linked dynamically, with
# STAGE_TWIN_OBJ_N. It execs the twin in its place for pull, images and
# rmi (common/image/libs.h), and runs it as a helper child for each
# transaction of firewall rules (common/net/libs.c): a run that makes
# the bridge's table or publishes ports, the last container out, the
# reaping of a killed runtime's rules. A run on a bridge already set up
# starts none: its one look at the rules is a netlink dump made here.
# Stages 15 and 16 are static for issues 25 and 26 (exec at least 3x
# faster than crun exec, an OCI create+start+wait+delete at least 3x
# faster than crun's), where each start counts. bench/engines.sh, rows
# exec and oci, two runs each of the dynamic and the static build in
# turn, at load 3.7-4.3: crun exec over stage-15 exec 2.64x and 3.25x
# dynamic, 4.31x and 4.42x static (stage-15 exec 6.1-7.2 ms median
# against 4.6-7.2, min 5.2-5.7 against 4.2); crun over stage 16's
# lifecycle 2.06x and 2.09x round by round, 2.41x and 2.46x static
# (medians 28.8 ms, 25.1 ms). `perf stat -e page-faults` of one exec
# of /bin/true: 130 dynamic, 100 static. The price: a bridged run that
# makes the table and, the last out, removes it starts two helpers.
# Stage 14, the network's lesson, stays dynamic, where that is all its
# bench measures: stage 15's code in its place, row net (a bridge made
# and removed by each run), 79.3 ms median static against 71.8 dynamic
# (min 67.7, 63.5), row net-held, 12.9 and 13.2 ms static against 15.2
# and 16.0 (the bridge adding +1.95 and +2.45 ms to --net none static,
# +2.26 and +2.50 dynamic).
stage_twin    = $(and $(STAGE_TWIN_$(1)),$(STAGE_LDFLAGS))
stage_dynamic = $(if $(call stage_twin,$(1)),,$(STAGE_DYNAMIC_$(1)))
stage_static  = $(and $(call stage_dynamic,$(1)),$(STAGE_LDFLAGS))
stage_libs = $(if $(call stage_static,$(1)),$(BINDNOW) $(BSTATIC) \
	$(sort $(filter $(STATIC_ARCHIVES),$(STAGE_LIBS_$(1)))) $(BDYNAMIC) \
	$(filter-out $(STATIC_ARCHIVES),$(STAGE_LIBS_$(1))),$(STAGE_LIBS_$(1)))
.SECONDEXPANSION:
$(BUILD)/stage-%: $$(call stage_objs,$$*) $$(STAGE_OBJ_$$*) $(COMMON_OBJ) \
		| $$(if $$(call stage_twin,$$*),$(BUILD)/stage-$$*-dynamic)
	$(CC) $(CFLAGS) $(LDFLAGS) $(if $(call stage_dynamic,$*),,$(STAGE_LDFLAGS)) \
		-o $@ $^ $(call stage_libs,$*)
# The twin: dynamic, as the fixtures of such a stage are; its start does
# not count, a pull is a hundred milliseconds and more.
$(BUILD)/stage-%-dynamic: $$(call stage_objs,$$*) $$(STAGE_TWIN_OBJ_$$*) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(STAGE_LIBS_$*)
# Named here, the twins are no intermediate files, which make would
# delete after the build and not make again while their stage is new.
STAGE_TWINS := $(foreach n,$(STAGE_NUMS),$(if $(call stage_twin,$(n)),$(BUILD)/stage-$(n)-dynamic))
all: $(STAGE_TWINS)

$(STAGE_NUMS:%=stage-%): stage-%: $(BUILD)/stage-% ;

# Reached through a pattern, they would count as intermediate and be
# deleted after every build, then rebuilt by the next.
.SECONDARY: $(STAGE_OBJS)

# The whole change of stage N: the spine's diff and each lesson file it
# adds or changes (tools/diff.sh).
$(STAGE_NUMS:%=diff-%): diff-%:
	@if [ $* -le 1 ]; then echo "make: no stage $$(($* - 1)) to compare" >&2; exit 2; fi
	@tools/diff.sh "$(call stage_src,$(shell echo $$(($* - 1))))" "$(call stage_src,$*)"

format:
	clang-format -i common/*.[ch] common/*/*.[ch] stages/*/*.[ch] tests/*.[ch] $(wildcard bench/*.c)

ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
# gcc's shared libubsan, loaded beside libasan, ignores log_path and
# writes its reports to stderr; linked in statically, it honours it.
ASAN_LDFLAGS := -static-libasan -static-libubsan

# make does not rebuild when flags change: a build made with other flags
# goes first. The stages (linked dynamically: STAGE_LDFLAGS empty) and the
# test fixtures, which the suites run beside them.
asan:
	@f='$(ASAN_CFLAGS) $(ASAN_LDFLAGS)'; \
	[ "$$(cat build/asan/.flags 2>/dev/null)" = "$$f" ] || { \
		rm -rf build/asan && mkdir -p build/asan && echo "$$f" >build/asan/.flags; }
	$(MAKE) $(BUILD_JOBS) BUILD=build/asan STAGE_LDFLAGS= CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="$(ASAN_LDFLAGS)" \
		all $(patsubst $(BUILD)/%,build/asan/%,$(TEST_FIXTURES))

# Unmounts what a broken stage left mounted under build/ first, so that no
# mount is left behind and rm never reaches through one.
clean:
	@tools/clean.sh $(BUILD) build

# What `make run` and `make test` install when missing (Debian packages);
# the parts' .mk files add theirs to DEPS_TEST.
DEPS_RUN  := make gcc libc6-dev busybox-static libseccomp-dev
DEPS_TEST := $(DEPS_RUN) libcunit1-dev libjansson-dev

# The parts of `make test`, in order; the .mk files add theirs.
TEST_PARTS := test-host test-rootfs test-vm check-tutorial test-tutorial test-classroom \
	build-hardening

# Each part keeps its own rules beside its files.
include tests/tests.mk
include $(wildcard common/*/*.mk tests/*/*.mk bench/*.mk tools/*.mk)
-include $(COMMON_OBJ:.o=.d) $(STAGE_OBJS:.o=.d)

deps-run:
	@tools/deps.sh run $(DEPS_RUN)

deps-test:
	@tools/deps.sh test $(DEPS_TEST)

# A shell in a container of the last stage, on ./rootfs (busybox).
run: deps-run
	@$(MAKE) --no-print-directory $(BUILD)/stage-$(LAST_STAGE) rootfs
	$(BUILD)/stage-$(LAST_STAGE) run --rootfs rootfs /bin/sh

# Every part, each run even when one before failed, with their wall times
# and results at the end (tests/parts.sh). A part in TEST_BESIDE, as
# PART:UNTIL, runs in the background beside the parts after it until
# UNTIL: test-vm's guest keeps about one core busy, which the parts on
# the host, waiting on processes most of the time, leave free. It starts
# after test-host has built what both use, and ends before the parts that
# fetch packages (test-drivers) or run a VM of their own. build-hardening
# compiles, beside the parts after test-classroom, what test-asan and
# valgrind would otherwise compile first while the other core idled.
TEST_BESIDE := test-vm:test-bundles build-hardening:test-asan

test: deps-test
	@tests/parts.sh "$(MAKE)" $(BUILD)/test-parts "$(TEST_PARTS)" "$(TEST_BESIDE)"
