# common/ctr/: the plumbing of detached containers (stage 15 on): their
# state files (JSON through jansson), ids, names and lookup. Not in
# COMMON_OBJ (common/*.c only): stages 1-12 link statically and never
# with jansson. Stage 15's stage.mk will link $(CTR_OBJ) with $(CTR_LIBS);
# tests/exec/exec.mk builds test_exec the same way.
CTR_SRC  := $(wildcard common/ctr/*.c)
CTR_OBJ  := $(CTR_SRC:%.c=$(BUILD)/%.o)
CTR_LIBS := -ljansson

DEPS_CTR  := libjansson-dev
DEPS_RUN  += $(DEPS_CTR)
DEPS_TEST += $(DEPS_CTR)

.PHONY: ctr-objs
ctr-objs: $(CTR_OBJ)

-include $(CTR_OBJ:.o=.d)
