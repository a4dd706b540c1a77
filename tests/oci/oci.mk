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
	-iquote stages/10-privs -iquote stages/11-walls -Itests

DEPS_OCI_TEST := libcunit1-dev $(DEPS_OCI_SPEC) $(DEPS_CTR)
DEPS_TEST += $(DEPS_OCI_TEST)

.PHONY: test-oci

# A few seconds: it builds nothing but its own program.
TEST_PARTS += test-oci

$(BUILD)/tests/oci/%.o: tests/oci/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(OCI_IQUOTE) $(CFLAGS) -c -o $@ $<

$(BUILD)/stages/16-oci/%.o: CPPFLAGS += $(OCI_IQUOTE)

OCI_TEST_OBJ := $(BUILD)/tests/oci/test_oci.o $(BUILD)/tests/cu_run.o \
	$(OCI_LESSON_OBJ) $(OCI_SPEC_OBJ) $(CTR_OBJ) $(COMMON_OBJ)

$(TEST_OCI): $(OCI_TEST_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit $(OCI_SPEC_LIBS) $(CTR_LIBS)

# What a run of test_oci or of its fixtures must not leave: a process
# of theirs, their scratch directory. Their mounts are in a mount
# namespace of their own, gone with them.
define oci_nothing_left
	@left=$$(pgrep -f -- '^[^ ]*/tests/oci/(test_oci|fixture-[^ ]*)( -v)?( oci-[a-z]+)?$$'; \
		ls -d /tmp/minidocker-oci-test.* 2>/dev/null); \
	if [ -n "$$left" ]; then echo "make: $@: left behind:" $$left >&2; exit 1; fi
endef

# Without root the crun comparison says it is skipped; the rest runs.
test-oci: $(TEST_OCI)
	@tools/deps.sh test-oci $(DEPS_OCI_TEST)
	timeout -k 10 120 $(TEST_OCI) $(if $(V),-v)
	$(oci_nothing_left)

-include $(BUILD)/tests/oci/test_oci.d $(OCI_LESSON_OBJ:.o=.d)

# The proofs that each test can fail for its reason: test_oci built with
# oci.c (or the plumbing it uses: common/oci/spec.c, common/ctr/) less
# one step, by sed (the build
# fails when a sed stops matching), must fail the test named, in the
# suite named; run by tests/exec/prove.sh, which checks just that for
# any such list.
OCI_SRC := stages/16-oci/oci.c
OCI_READER_SRC := common/oci/spec.c

# oci_fixture(NAME,SED,SUITE,TEST[,SOURCE]): through $(eval), so a "$"
# of the sed is written "$$$$" and a comma "$(comma)"; SOURCE is oci.c
# unless given.
OCI_FIXTURES :=
define oci_fixture
OCI_FIXTURES += $(1)
OCI_FIX_SED_$(1) := $(2)
OCI_FIX_FAILS_$(1) := $(3) $(4)
OCI_FIX_SRC_$(1) := $(or $(5),$(OCI_SRC))
endef
$(eval $(call oci_fixture,refuse-nothing,'s/^\t\telse if (f->use == REFUSE && !asks_nothing(value)) {$$$$/\t\telse if (0) {/',oci-spec,test_refuses_each_unsupported_field,$(OCI_READER_SRC)))
$(eval $(call oci_fixture,refuse-empty,'s/^\tswitch (json_typeof(value)) {$$$$/\treturn false;\n&/',oci-spec,test_takes_fields_that_ask_nothing_or_are_not_the_specs,$(OCI_READER_SRC)))
$(eval $(call oci_fixture,refuse-unknown,'s/^\t\tif (!f->name)$$$$/\t\tif (!f->name \&\& (fail(p$(comma) "unknown")$(comma) 1))/',oci-spec,test_takes_fields_that_ask_nothing_or_are_not_the_specs,$(OCI_READER_SRC)))
$(eval $(call oci_fixture,any-caps,'s/^\tif (c\[OCI_CAP_EFFECTIVE\] != one || c\[OCI_CAP_PERMITTED\] != one)$$$$/\tif (0)/',oci-spec,test_refuses_bad_values))
$(eval $(call oci_fixture,newline-kept,'s/^\t\tif (iscntrl((unsigned char)\*c))$$$$/\t\tif (0)/',oci-spec,test_refuses_bad_values,$(OCI_READER_SRC)))
$(eval $(call oci_fixture,quota-unscaled,'s/^\t\t    (long)(spec->cpu_quota \* CPU_PERIOD \/ spec->cpu_period);$$$$/\t\t    (long)spec->cpu_quota;/',oci-spec,test_parses_every_supported_field))
$(eval $(call oci_fixture,spec-overwrites,'s/O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC$(comma) 0644/O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC$(comma) 0644/',oci-spec,test_default_spec_reads_back_in_cruns_shape))
$(eval $(call oci_fixture,features-refused,'s/^\tAPPEND_NAMES(opts$(comma) mount_options$(comma) mount_options\[k_\].how != OPT_REFUSE);$$$$/\tAPPEND_NAMES(opts$(comma) mount_options$(comma) true);/',oci-spec,test_features_lists_what_is_read,$(OCI_READER_SRC)))
$(eval $(call oci_fixture,zombie-alive,'s/ \&\& ps.state != .Z. \&\& ps.state != .X.;$$$$/;/',oci-state,test_status_follows_the_process))
$(eval $(call oci_fixture,pid-only,'s/^\t       ps.start == st->pid_start \&\& ps.state/\t       kill(st->pid$(comma) 0) == 0 \&\& ps.state/',oci-state,test_reused_pid_is_stopped))
$(eval $(call oci_fixture,fifo-ignored,'s/^\t\telse if (access(fifo$(comma) F_OK) < 0 && errno == ENOENT)$$$$/\t\telse if (0)/',oci-state,test_status_follows_the_process))
$(eval $(call oci_fixture,stopped-pid,'s/^\tint pid = st->status == OCI_STOPPED ? 0 : (int)st->pid;$$$$/\tint pid = (int)st->pid;/',oci-state,test_status_follows_the_process))
$(eval $(call oci_fixture,no-wait,'s/^\tint w = open(path$(comma) O_WRONLY | O_CLOEXEC);$$$$/\tint w = open("\/dev\/null"$(comma) O_WRONLY | O_CLOEXEC);/',oci-fifo,test_create_waits_until_start))
$(eval $(call oci_fixture,fifo-kept,'s/^\tif (rc == 0 && unlink(path) < 0 && errno != ENOENT) {$$$$/\tif (0) {/',oci-fifo,test_start_twice_fails))
$(eval $(call oci_fixture,start-blind,'s/^\t\tif (!state_alive(st)) {$$$$/\t\tif (0) {/',oci-fifo,test_start_of_a_dead_process_fails_in_time))
$(eval $(call oci_fixture,hook-no-stdin,'s/^\t\tif (dup2(in$(comma) 0) < 0 || dup2(2$(comma) 1) < 0)$$$$/\t\tif (dup2(2$(comma) 1) < 0)/',oci-hooks,test_hooks_run_in_order_with_state_on_stdin))
$(eval $(call oci_fixture,hook-no-timeout,'s/^\t\tif (r == 0 && now_ms() > end) {$$$$/\t\tif (0) {/',oci-hooks,test_hook_past_its_timeout_is_killed))
$(eval $(call oci_fixture,hooks-go-on,'s/^\t\tif (!keep_going)$$$$/\t\tif (0)/',oci-hooks,test_failing_hook_stops_the_rest))
$(eval $(call oci_fixture,hook-our-env,'s/(h->env ? h->env : no_env)/(environ)/',oci-hooks,test_hook_gets_its_args_and_env_only))
$(eval $(call oci_fixture,sig-only,'s/^\tif (!strncasecmp(text$(comma) "SIG"$(comma) 3))$$$$/\tif (0)/',oci-kill,test_signal_names))
$(eval $(call oci_fixture,kill-unchecked,'s/^\tif (!state_alive(st)) {$$$$/\tif (0) {/',oci-state,test_reused_pid_is_stopped))
$(eval $(call oci_fixture,seccomp-no-args,'s/^\t\t\terr = add_rule(ctx$(comma) rule->action$(comma) nr$(comma) rule);$$$$/\t\t\terr = seccomp_rule_add(ctx$(comma) rule->action$(comma) nr$(comma) 0);/',oci-seccomp,test_spec_filter_is_what_the_process_gets))
$(eval $(call oci_fixture,seccomp-and,'s/^\tif (!twice)$$$$/\tif (1)/',oci-seccomp,test_spec_filter_is_what_the_process_gets))
$(eval $(call oci_fixture,seccomp-unknown,'s/^\t\t\tif (nr == __NR_SCMP_ERROR)$$$$/\t\t\tif (0)/',oci-seccomp,test_spec_filter_is_what_the_process_gets))
$(eval $(call oci_fixture,no-in-root,'s/^\t\t\t       .resolve = RESOLVE_IN_ROOT};$$$$/\t\t\t       .resolve = 0};/',oci-paths,test_paths_resolve_inside_the_root))
$(eval $(call oci_fixture,walk-naive,'s/^\tint links = 0;$$$$/&\n\treturn openat(root$(comma) path + (*path == '\''\/'\'')$(comma) flags | O_CLOEXEC);/',oci-paths,test_paths_resolve_inside_the_root))
$(eval $(call oci_fixture,start-field-23,'s/^\t\t\t " %\*s %\*s %\*s %\*s %\*s %\*s %\*s %llu"$(comma)$$$$/\t\t\t " %*s %*s %*s %*s %*s %*s %*s %*s %llu"$(comma)/',oci-state,test_status_follows_the_process,common/process.c))

OCI_FIXTURE_BINS := $(OCI_FIXTURES:%=$(BUILD)/tests/oci/fixture-%)

$(BUILD)/tests/oci/fixtures/%.c: $$(OCI_FIX_SRC_$$*) tests/oci/oci.mk
	@mkdir -p $(dir $@)
	@sed $(OCI_FIX_SED_$*) $< > $@
	@! cmp -s $< $@ || { echo "oci.mk: fixture $*: the sed no longer matches $<" >&2; exit 1; }

.PRECIOUS: $(BUILD)/tests/oci/fixtures/%.c

# The fixture's source in place of its original's object; a step taken
# out may leave a helper, a variable or a parameter unused.
$(BUILD)/tests/oci/fixture-%: $(BUILD)/tests/oci/fixtures/%.c $(OCI_TEST_OBJ)
	$(CC) $(CPPFLAGS) $(OCI_IQUOTE) $(CFLAGS) -Wno-unused-function \
		-Wno-unused-variable -Wno-unused-parameter $(LDFLAGS) -o $@ $< \
		$(filter-out $(BUILD)/$(OCI_FIX_SRC_$*:.c=.o),$(OCI_TEST_OBJ)) \
		-lcunit $(OCI_SPEC_LIBS) $(CTR_LIBS)

.PHONY: prove-oci
# About half a minute: twenty-odd programs built, each suite run once
# (three wait out a timeout of theirs).
TEST_PARTS += prove-oci

prove-oci:
	@$(MAKE) --no-print-directory $(BUILD_JOBS) $(OCI_FIXTURE_BINS)
	@tests/exec/prove.sh $(foreach f,$(OCI_FIXTURES),$(BUILD)/tests/oci/fixture-$(f) $(OCI_FIX_FAILS_$(f)))
	$(oci_nothing_left)
