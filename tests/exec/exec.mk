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
	$(CC) $(CPPFLAGS) -iquote stages/15-exec -iquote stages/10-privs $(CFLAGS) -c -o $@ $<

$(BUILD)/stages/15-exec/%.o: CPPFLAGS += -iquote stages/15-exec -iquote stages/10-privs

$(TEST_EXEC): $(BUILD)/tests/exec/test_exec.o $(EXEC_LESSON_OBJ) $(CTR_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit -lseccomp -lutil $(CTR_LIBS)

test-exec: $(TEST_EXEC)
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: test-exec skipped: it needs root (namespaces, cgroups, mounts): run sudo make test-exec" >&2; \
		exit 1; fi
	@tools/deps.sh test-exec $(DEPS_EXEC_TEST)
	tests/exec/exec.sh $(TEST_EXEC) $(if $(V),-v)

-include $(BUILD)/tests/exec/test_exec.d $(EXEC_LESSON_OBJ:.o=.d)
