# Stage 16's lesson without a stage: stages/16-oci/oci.c driven by
# test_oci on config.json files and plain processes, with this program
# as the spine; the comparison with crun (root, crun installed) runs
# crun in a mount namespace of the test's own.

TEST_OCI := $(BUILD)/tests/oci/test_oci
# The lesson, and the lessons whose tables and types it fills: stage 9's
# struct limits, stage 10's capabilities, stage 11's walls.
OCI_LESSON_OBJ := $(BUILD)/stages/16-oci/oci.o \
	$(BUILD)/stages/11-walls/walls.o $(BUILD)/stages/10-privs/privs.o
OCI_IQUOTE := -iquote stages/16-oci -iquote stages/09-limits \
	-iquote stages/10-privs -iquote stages/11-walls

DEPS_OCI_TEST := libcunit1-dev libseccomp-dev $(DEPS_CTR)
DEPS_TEST += $(DEPS_OCI_TEST)

.PHONY: test-oci

# A few seconds: it builds nothing but its own program.
TEST_PARTS += test-oci

$(BUILD)/tests/oci/%.o: tests/oci/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(OCI_IQUOTE) $(CFLAGS) -c -o $@ $<

$(BUILD)/stages/16-oci/%.o: CPPFLAGS += $(OCI_IQUOTE)

OCI_TEST_OBJ := $(BUILD)/tests/oci/test_oci.o $(OCI_LESSON_OBJ) \
	$(CTR_OBJ) $(COMMON_OBJ)

$(TEST_OCI): $(OCI_TEST_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit -lseccomp $(CTR_LIBS)

# Without root the crun comparison says it is skipped; the rest runs.
test-oci: $(TEST_OCI)
	@tools/deps.sh test-oci $(DEPS_OCI_TEST)
	tests/oci/oci.sh $(TEST_OCI) $(if $(V),-v)

-include $(BUILD)/tests/oci/test_oci.d $(OCI_LESSON_OBJ:.o=.d)
