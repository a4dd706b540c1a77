# The CUnit runner, the probe, and the test targets.

TEST_RUNNER := $(BUILD)/tests/runner
TEST_PROBE  := $(BUILD)/tests/probe
TEST_ROOTFS ?= $(BUILD)/test-rootfs
# RUNNER_NET= builds the runner without suite 14 and its network helpers,
# hence without libnftables, which has no static archive (and is loaded
# with dlopen(), which has no place in a static program):
# the VM's static runner (it runs the static stages, 1 to 12, and of
# stage 16, dynamic, the suites vm.mk names).
RUNNER_NET  ?= yes
TEST_SRC    := tests/runner.c tests/harness.c tests/test_common.c tests/serve.c \
	$(if $(RUNNER_NET),tests/netns.c,) \
	$(filter-out $(if $(RUNNER_NET),,tests/suite_net.c tests/suite_detach.c),$(wildcard tests/suite_*.c))
TEST_OBJ    := $(TEST_SRC:%.c=$(BUILD)/%.o)
# Stage 15's exec with one join taken out (see below).
EXEC_JOINS := uts pid mnt ipc user cgroupns net cgroups walls
FIXTURE_NAMES := no-private no-reap no-umount no-userns-check no-newuts \
	no-unmount stub-uts no-prepare-child no-start short-denylist no-digest-check \
	$(EXEC_JOINS:%=no-join-%) dumpable-exec no-root-resolve
TEST_FIXTURES := $(FIXTURE_NAMES:%=$(BUILD)/fixture-%)
# Those of the stages linked dynamically (13's, 15's), which no static
# build (the VM's) can make.
FIXTURES_DYNAMIC := no-digest-check $(EXEC_JOINS:%=no-join-%) dumpable-exec no-root-resolve

.PHONY: tests fixtures test-host test-fixtures test-common test-probe-rootfs \
	$(STAGE_NUMS:%=test-stage-%) $(STAGE_NUMS:%=prove-%)

# The fixtures are built only for the targets that prove (the student
# edition, whose lessons are stubs, has nothing for their seds to match).
# fixture-no-start is the exception: the 8-userns suite runs it beside
# every stage (test_broken_handshake_is_one_line_125), and its sed touches
# no lesson, so it builds from the student edition too.
tests: $(TEST_RUNNER) $(TEST_PROBE) $(BUILD)/fixture-no-start

fixtures: $(TEST_FIXTURES)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -c -o $@ $<

# The names of stage 10's deny-list, read out of its denied_calls[] rows
# (as bench/bench.sh reads them), for suite_privs.c to check the probe's
# calls against: a row added to privs.c that the probe never calls fails.
PRIVS_LESSON := $(wildcard stages/10-*/privs.c)
$(BUILD)/tests/denied_calls.h: $(PRIVS_LESSON) tests/tests.mk
	@mkdir -p $(dir $@)
	sed -n 's/^\t{SCMP_SYS(\([a-z_0-9]*\)),.*/"\1",/p' $< > $@
	@test -s $@ || { echo "tests.mk: no denied_calls[] rows found in $<" >&2; rm -f $@; exit 1; }

$(BUILD)/tests/suite_privs.o: $(BUILD)/tests/denied_calls.h
$(BUILD)/tests/suite_privs.o: CPPFLAGS += -iquote $(BUILD)/tests

# Suite 14 makes its own network (tests/netns.c) through common/net/
# (named once common/net/net.mk is read, hence $$).
$(TEST_RUNNER): $(TEST_OBJ) $(COMMON_OBJ) $$(if $$(RUNNER_NET),$$(NET_OBJ))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit -ljansson $(if $(RUNNER_NET),$(NET_LIBS))

$(BUILD)/tests/runner.o: CPPFLAGS += $(if $(RUNNER_NET),,-DRUNNER_NO_NET)

# Fixtures: a stage with one thing taken out, generated from the stage's
# own source by sed, so they never drift; the cmp fails the build when
# the sed stops matching. runner.c's fixtures[] names the tests each must
# fail; tests/fixtures_test.sh uses the rest.
#   no-private        stage 5, CLONE_NEWNS but no private remount (the Go
#                     post's "Nothing changed!")
#   no-reap           stage 6 that never reaps a killed runtime's group
#                     (common's cgroup_reap_stale() stubbed, wherever a
#                     stage or common/ calls it)
#   no-umount         stage 7 that keeps the old root mounted
#   no-userns-check   stage 8 that does not ask what forbids a user namespace
#   no-newuts         stage 2 without CLONE_NEWUTS (renames its host)
#   no-unmount        stage 4 that never unmounts its /proc
#   stub-uts          stage 2 as the learner gets it: setup_uts() a stub
#   no-prepare-child  stage 8 whose child skips prepare_child(), so it
#                     does not die with the runtime
#   seccomp-first     stage 10 whose child loads its seccomp filter
#                     before it sets no_new_privs, a learner's mistake
#                     (issue 22): without CAP_SYS_ADMIN the kernel
#                     refuses the filter, so nearly every run dies with
#                     one line. Only its source is made here:
#                     tests/classroom/misblame_test.sh grades a copy of
#                     the tree with it as stage 10's main.c, and the
#                     grade must put those failures down to stage 10.
#   no-start          stage 8 whose child dies before it reads the start
#                     byte, and whose parent waits for that (without
#                     reaping it) before writing the byte: the write meets
#                     a pipe nobody reads, and must say so, not die of
#                     SIGPIPE
#   short-denylist    stage 10 whose deny-list lacks the bpf and keyctl
#                     rows (a learner's half-done table)
#   no-root-resolve   stage 16 whose paths of the spec (mounts'
#                     destinations, devices) are looked up in the root
#                     without RESOLVE_IN_ROOT: a link in the root
#                     filesystem, absolute or "..", leads out of it, onto
#                     the test's own directory on the host (the code
#                     before, which joined rootfs and the path, did so too)
#   no-digest-check   stage 13 whose blob fetch keeps a blob whatever its
#                     sha256 (common/image/blob.c's comparison taken out):
#                     a corrupt layer goes into the store
FIXTURE_SRC_no-private      := stages/05-mount/main.c
FIXTURE_SED_no-private       = '/^\tmake_mounts_private();$$/d'
FIXTURE_SRC_no-reap-cgroup  := common/cgroup.c
FIXTURE_SED_no-reap-cgroup   = '/^int cgroup_reap_stale(const char \*parent)$$/,/^{$$/s/^{$$/{\n\treturn 0; \/* the fixture: reap nothing *\//'
FIXTURE_SRC_no-umount       := stages/07-pivot/main.c
FIXTURE_SED_no-umount        = 's/umount2(".", MNT_DETACH)/0/'
FIXTURE_SRC_no-userns-check := stages/08-userns/main.c
FIXTURE_SED_no-userns-check  = '/^\tcheck_userns_allowed();$$/d'
FIXTURE_SRC_no-newuts       := stages/02-uts/main.c
FIXTURE_SED_no-newuts        = 's/^\(\tint flags = SIGCHLD\) | CLONE_NEWUTS;$$/\1;/'
FIXTURE_SRC_no-unmount      := stages/04-chroot/main.c
FIXTURE_SED_no-unmount       = '/^\tunmount_proc(cfg\.rootfs);$$/d'
FIXTURE_SRC_no-prepare-child := stages/08-userns/main.c
FIXTURE_SED_no-prepare-child  = 's/^\tif (prepare_child(&cfg->mask, cfg->lifeline) < 0)$$/\tif (0)/'
FIXTURE_SRC_no-start        := stages/08-userns/main.c
FIXTURE_SED_no-start         = -e 's/^\tawait_parent(cfg->sync);$$/\t_exit(0); \/* no-start *\//' \
	-e 's/^\tif (write_all(cfg.sync\[1\], "1", 1) < 0) {$$/\twaitid(P_PID, pid, \&(siginfo_t){0}, WEXITED | WNOWAIT); \/* no-start *\/\n&/' \
	-e 's/^\#include <unistd.h>$$/&\n\#include <sys\/wait.h>/'
FIXTURE_SRC_short-denylist  := stages/10-privs/privs.c
FIXTURE_SED_short-denylist   = -e '/^\t{SCMP_SYS(bpf), /,/},$$/d' \
	-e '/^\t{SCMP_SYS(keyctl), /d'
FIXTURE_SRC_seccomp-first   := stages/10-privs/main.c
FIXTURE_SED_seccomp-first    = '/^\tset_no_new_privs();$$/{N;s/^\(\tset_no_new_privs();\)\n\(\tinstall_seccomp();\)$$/\2\n\1/;}'
FIXTURE_SRC_no-digest-check-blob := common/image/blob.c
FIXTURE_SED_no-digest-check-blob  = 's/^\tif (strcmp(got, b->digest)) {$$/\tif (0) { \/* no-digest-check *\//'
FIXTURE_SRC_stub-uts        := stages/02-uts/main.c
FIXTURE_SED_stub-uts         = '/^static void setup_uts(/,/^{$$/s/^{$$/{\n\tdie("not implemented: setup_uts() (see TUTORIAL.md, stage 2)");/'

$(BUILD)/fixtures/%.c: $$(FIXTURE_SRC_$$*) tests/tests.mk
	@mkdir -p $(dir $@)
	sed $(FIXTURE_SED_$*) $< > $@
	@! cmp -s $< $@ || { echo "tests.mk: fixture $*: the sed no longer matches $<" >&2; exit 1; }

.PRECIOUS: $(BUILD)/fixtures/%.c

$(BUILD)/fixture-no-reap: stages/06-cgroup/main.c \
		$(BUILD)/fixtures/no-reap-cgroup.c \
		$(filter-out $(BUILD)/common/cgroup.o,$(COMMON_OBJ))
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^

# Stage 10's spine and stage 9's lesson as they are, with the fixture's
# privs.c in place of its own.
$(BUILD)/fixture-short-denylist: $(BUILD)/fixtures/short-denylist.c \
		$(filter-out %/privs.o,$(call stage_objs,10)) $(COMMON_OBJ)
	$(CC) $(CPPFLAGS) -iquote stages/10-privs $(CFLAGS) $(LDFLAGS) \
		$(STAGE_LDFLAGS) -o $@ $^ $(STAGE_LIBS_10)
# Stage 13 (dynamic, as stage 13 is) with the fixture's blob.c; the
# image objects are named after common/image/image.mk is read.
$(BUILD)/fixture-no-digest-check: $(call stage_objs,13) \
		$(BUILD)/fixtures/no-digest-check-blob.c \
		$$(filter-out $(BUILD)/common/image/blob.o,$$(IMAGE_OBJ)) $(COMMON_OBJ)
	$(CC) $(CPPFLAGS) -Icommon/image $(CFLAGS) $(LDFLAGS) -o $@ $^ \
		$(STAGE_LIBS_13)

# Stage 15 whose exec.c skips one join, by sed as above: one setns
# (no-join-<ns>; in join_container() only: open_container() has the same
# line, and a fixture that fails there fails exec for another reason),
# the cgroups, or the walls (no sed spells a lesson's line out whole:
# the learner's edition, which keeps this file, must not hold one). Its
# suite's test of that join must fail (runner.c's fixtures[]).
EXEC_NS_uts := UTS
EXEC_NS_pid := PID
EXEC_NS_mnt := MNT
EXEC_NS_ipc := IPC
EXEC_NS_user := USER
EXEC_NS_cgroupns := CGROUP
EXEC_NS_net := NET
comma := ,
$(foreach j,$(EXEC_JOINS),$(eval FIXTURE_SRC_no-join-$(j) := stages/15-exec/exec.c))
$(foreach j,uts pid mnt ipc user cgroupns net,$(eval FIXTURE_SED_no-join-$(j) = \
	'/^void join_container/$(comma)/^}/s/^\t\tif (h->ns\[i\] < 0)$$$$/\t\tif (h->ns[i] < 0 || i == EXEC_NS_$(EXEC_NS_$(j)))/'))
FIXTURE_SED_no-join-cgroups = 's/^\t\tjoin_group(target->cgroups\[i\]);$$/\t\tif (0) &/'
FIXTURE_SED_no-join-walls   = 's/^\tdrop_capabilities(h->caps);$$/\treturn;/'
# Stage 15 whose exec stays dumpable until the command's exec (its
# PR_SET_DUMPABLE taken out): the catalogue's CVE-2019-5736 entry, a
# process of the container opening the joining copy's /proc/PID/exe,
# must get through (runner.c's fixtures[]).
FIXTURE_SRC_dumpable-exec := stages/15-exec/exec.c
FIXTURE_SED_dumpable-exec  = '/PR_SET_DUMPABLE, 0/,+1d'
STAGE15_FIXTURES := $(EXEC_JOINS:%=no-join-%) dumpable-exec
$(STAGE15_FIXTURES:%=$(BUILD)/fixture-%): $(BUILD)/fixture-%: \
		$(BUILD)/fixtures/%.c \
		$$(filter-out $(BUILD)/stages/15-exec/exec.o,$$(call stage_objs,15)) \
		$$(STAGE_TWIN_OBJ_15) $(COMMON_OBJ)
	$(CC) $(CPPFLAGS) -iquote stages/15-exec -iquote stages/10-privs \
		$(CFLAGS) -Wno-unused-function $(LDFLAGS) -o $@ $^ $(STAGE_LIBS_15)

# Stage 16 (dynamic) with the fixture's oci.c.
FIXTURE_SRC_no-root-resolve := stages/16-oci/oci.c
FIXTURE_SED_no-root-resolve  = 's/^\t\t\t       .resolve = RESOLVE_IN_ROOT};$$/\t\t\t       .resolve = 0}; \/* no-root-resolve *\//'
$(BUILD)/fixture-no-root-resolve: $(BUILD)/fixtures/no-root-resolve.c \
		$$(filter-out $(BUILD)/stages/16-oci/oci.o,$$(call stage_objs,16)) \
		$$(STAGE_TWIN_OBJ_16) $(COMMON_OBJ)
	$(CC) $(CPPFLAGS) $(patsubst %,-iquote %,$(sort $(dir $(call stage_src,16)))) \
		$(CFLAGS) $(LDFLAGS) -o $@ $^ $(STAGE_LIBS_16)

# A stub leaves code unreachable and a helper unused: no warning for that.
$(BUILD)/fixture-%: $(BUILD)/fixtures/%.c $(COMMON_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-function -Wno-unused-value \
		$(LDFLAGS) -o $@ $^

# Static, so it runs inside any root filesystem.
$(TEST_PROBE): tests/probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -o $@ $<

# The probe goes into the test root filesystem as /bin/probe.
$(TEST_ROOTFS)/bin/probe: $(TEST_PROBE) $(TEST_ROOTFS)/.rootfs-ok
	cp $(TEST_PROBE) $@

test-probe-rootfs: $(TEST_ROOTFS)/bin/probe

# The common suite runs in-process; it also runs stage 1's suite, so it
# needs stage 1 and the probe. Its status is the runner's.
test-common: $(BUILD)/stage-1 tests
	$(TEST_RUNNER) --bin $(BUILD) --stage 1 --common

# Suites 1..N against stage N. ONLY=NAME runs one suite or test, V=1
# shows every run (command, status, stdout, stderr):
#   sudo make test-stage-2 ONLY=test_hostname_inside_is_container V=1
RUNNER_PICK = $(if $(ONLY),--only $(ONLY)) $(if $(V),-v)
$(STAGE_NUMS:%=test-stage-%): test-stage-%: $(BUILD)/stage-% tests test-probe-rootfs
	$(TEST_RUNNER) --bin $(BUILD) --rootfs $(TEST_ROOTFS) --stage $* $(RUNNER_PICK)

# Each stage's new tests against the stage before, where they must fail.
# V=1 shows every run and the checks that made each proof fail.
$(STAGE_NUMS:%=prove-%): prove-%: $(BUILD)/stage-% tests fixtures test-probe-rootfs
	@if [ $* -le 1 ]; then echo "make: stage 1 has no stage before it: nothing to prove" >&2; exit 2; fi
	@p=$$(($* - 1)); $(MAKE) --no-print-directory $(BUILD)/stage-$$p
	$(TEST_RUNNER) --bin $(BUILD) --rootfs $(TEST_ROOTFS) --stage $* --prove $(RUNNER_PICK)

# Every suite against every stage, the proofs, and the common suite; what
# they run built first, on every core.
test-host:
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all tests fixtures test-probe-rootfs
	$(TEST_RUNNER) --bin $(BUILD) --rootfs $(TEST_ROOTFS) --common --prove --times
	tests/fixtures_test.sh $(BUILD) $(TEST_ROOTFS)

# What the runner does with broken stages (fixtures_test.sh says what).
test-fixtures: all tests fixtures test-probe-rootfs
	tests/fixtures_test.sh $(BUILD) $(TEST_ROOTFS)

-include $(TEST_OBJ:.o=.d)
