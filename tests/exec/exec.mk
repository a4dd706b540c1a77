# Stage 15's lesson without a stage: stages/15-exec/exec.c and monitor.c
# and common/ctr/ driven by test_exec on plain processes, in namespaces,
# a cgroup and a mount namespace it makes itself; exec.sh checks that it
# leaves no process, cgroup or mount behind.

TEST_EXEC := $(BUILD)/tests/exec/test_exec
# The lesson, and stage 10's, which exec calls for the container's walls.
EXEC_LESSON_OBJ := $(BUILD)/stages/15-exec/exec.o \
	$(BUILD)/stages/15-exec/monitor.o $(BUILD)/stages/10-privs/privs.o

DEPS_EXEC_TEST := libcunit1-dev libseccomp-dev $(DEPS_CTR)
DEPS_TEST += $(DEPS_EXEC_TEST)

.PHONY: test-exec

# A few seconds: it builds nothing but its own program.
TEST_PARTS += test-exec

$(BUILD)/tests/exec/%.o: tests/exec/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -iquote stages/15-exec -iquote stages/10-privs -Itests $(CFLAGS) -c -o $@ $<

$(BUILD)/stages/15-exec/%.o: CPPFLAGS += -iquote stages/15-exec -iquote stages/10-privs

$(TEST_EXEC): $(BUILD)/tests/exec/test_exec.o $(BUILD)/tests/cu_run.o $(EXEC_LESSON_OBJ) $(CTR_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit -lseccomp -lutil $(CTR_LIBS)

test-exec: $(TEST_EXEC)
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: test-exec skipped: it needs root (namespaces, cgroups, mounts): run sudo make test-exec" >&2; \
		exit 1; fi
	@tools/deps.sh test-exec $(DEPS_EXEC_TEST)
	tests/exec/exec.sh $(TEST_EXEC) $(if $(V),-v)

-include $(BUILD)/tests/exec/test_exec.d $(EXEC_LESSON_OBJ:.o=.d)

# The proofs that each test can fail for its reason: test_exec built with
# the lesson (or its plumbing) less one step, by sed as tests/tests.mk
# makes the stages' fixtures (the build fails when the sed stops
# matching), must fail the test named, in the suite named. One per
# namespace that exec joins: skipped, the namespaces' test fails.
EXEC_TEST_OBJ := $(BUILD)/tests/exec/test_exec.o $(BUILD)/tests/cu_run.o \
	$(EXEC_LESSON_OBJ) $(CTR_OBJ) $(COMMON_OBJ)
EXEC_SRC    := stages/15-exec/exec.c
MONITOR_SRC := stages/15-exec/monitor.c
RECORD_SRC  := common/ctr/record.c
comma := ,

# exec_fixture(NAME,SOURCE,SED,SUITE,TEST): through $(eval), so a "$" of
# the sed is written "$$$$" (once for the call, once for the eval).
EXEC_FIXTURES :=
define exec_fixture
EXEC_FIXTURES += $(1)
EXEC_FIX_SRC_$(1) := $(2)
EXEC_FIX_SED_$(1) := $(3)
EXEC_FIX_FAILS_$(1) := $(4) $(5)
endef
$(foreach ns,USER IPC UTS NET PID CGROUP MNT,$(eval $(call exec_fixture,no-setns-$(ns),$(EXEC_SRC),'/^void join_container/$(comma)/^}/s/^\t\tif (h->ns\[i\] < 0)$$$$/\t\tif (h->ns[i] < 0 || i == EXEC_NS_$(ns))/',exec-join,test_exec_joins_every_namespace)))
$(eval $(call exec_fixture,dumpable,$(EXEC_SRC),'/PR_SET_DUMPABLE$(comma) 0/$(comma)+1d',exec-join,test_exec_is_not_dumpable_until_exec))
$(eval $(call exec_fixture,no-cgroup,$(EXEC_SRC),'s/^\t\tjoin_group(target->cgroups\[i\]);$$$$/\t\tif (0) &/',exec-join,test_exec_sees_the_containers_world))
$(eval $(call exec_fixture,no-root,$(EXEC_SRC),'s/^\tif (fchdir(h->root) < 0 || chroot("\.") < 0)$$$$/\tif (0)/',exec-join,test_exec_sees_the_containers_world))
$(eval $(call exec_fixture,no-walls,$(EXEC_SRC),'s/^\tdrop_capabilities(h->caps);$$$$/\treturn;/',exec-join,test_exec_has_the_containers_walls))
$(eval $(call exec_fixture,any-start-time,$(EXEC_SRC),'s/^\treturn t->pid_start == 0 || start == t->pid_start;$$$$/\treturn true;/',exec-join,test_exec_refuses_a_process_not_the_container))
$(eval $(call exec_fixture,no-ctty,$(EXEC_SRC),'s/^\tif (ioctl(slave$(comma) TIOCSCTTY$(comma) 0) < 0)$$$$/\tif (0)/',exec-terminal,test_command_sees_a_terminal_of_its_own))
$(eval $(call exec_fixture,no-winch,$(EXEC_SRC),'s/^\t\t\tpass_winsize(io->winsize$(comma) io->master);$$$$/\t\t\t;/',exec-terminal,test_command_sees_a_terminal_of_its_own))
$(eval $(call exec_fixture,no-restore,$(EXEC_SRC),'s/^\tif (tcsetattr(mode->fd$(comma) TCSANOW$(comma) &mode->saved) < 0)$$$$/\tif (0)/',exec-terminal,test_terminal_restored_when_command_killed))
$(eval $(call exec_fixture,no-die-hook,$(EXEC_SRC),'/^\tset_die_hook(restore_at_exit);$$$$/d',exec-terminal,test_terminal_restored_when_runtime_dies))
$(eval $(call exec_fixture,no-forward,$(MONITOR_SRC),'s/^\t\t\t\tkill(m->pid$(comma) (int)si.ssi_signo);$$$$/\t\t\t\t(void)0;/',exec-monitor,test_monitor_forwards_signals))
$(eval $(call exec_fixture,no-session,$(MONITOR_SRC),'s/^\tif (setsid() < 0)$$$$/\tif (0)/',exec-monitor,test_monitor_outlives_runtime_and_keeps_status))
$(eval $(call exec_fixture,no-cleanup,$(MONITOR_SRC),'s/^\t\tm->cleanup(status$(comma) m->arg);$$$$/\t\t(void)0;/',exec-monitor,test_monitor_outlives_runtime_and_keeps_status))
$(eval $(call exec_fixture,first-match,$(RECORD_SRC),'s/^\tif (found == 1)$$$$/\tif (found >= 1)/',exec-record,test_lookup_by_prefix_and_name))
$(eval $(call exec_fixture,in-place,$(RECORD_SRC),'s/^\tint fd = mkostemp(tmp$(comma) O_CLOEXEC);$$$$/\tint fd = open(path$(comma) O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC$(comma) 0644);\n\tsnprintf(tmp$(comma) sizeof(tmp)$(comma) "%s"$(comma) path);/',exec-record,test_readers_never_see_half_a_record))

EXEC_FIXTURE_BINS := $(EXEC_FIXTURES:%=$(BUILD)/tests/exec/fixture-%)

$(BUILD)/tests/exec/fixtures/%.c: $$(EXEC_FIX_SRC_$$*) tests/exec/exec.mk
	@mkdir -p $(dir $@)
	@sed $(EXEC_FIX_SED_$*) $< > $@
	@! cmp -s $< $@ || { echo "exec.mk: fixture $*: the sed no longer matches $<" >&2; exit 1; }

.PRECIOUS: $(BUILD)/tests/exec/fixtures/%.c

# The fixture's source in place of its original's object; a step taken
# out may leave a helper unused.
$(BUILD)/tests/exec/fixture-%: $(BUILD)/tests/exec/fixtures/%.c $(EXEC_TEST_OBJ)
	$(CC) $(CPPFLAGS) -iquote $(dir $(EXEC_FIX_SRC_$*)) -iquote stages/10-privs \
		$(CFLAGS) -Wno-unused-function $(LDFLAGS) -o $@ $< \
		$(filter-out $(BUILD)/$(EXEC_FIX_SRC_$*:.c=.o),$(EXEC_TEST_OBJ)) \
		-lcunit -lseccomp -lutil $(CTR_LIBS)

.PHONY: prove-exec
# About half a minute: twenty-odd programs built and each suite run once.
TEST_PARTS += prove-exec

prove-exec:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: prove-exec skipped: it needs root (namespaces, cgroups, mounts): run sudo make prove-exec" >&2; \
		exit 1; fi
	@$(MAKE) --no-print-directory $(BUILD_JOBS) $(EXEC_FIXTURE_BINS)
	@tests/exec/prove.sh $(foreach f,$(EXEC_FIXTURES),$(BUILD)/tests/exec/fixture-$(f) $(EXEC_FIX_FAILS_$(f)))
