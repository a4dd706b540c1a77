# common/oci/: the plumbing of stage 16: config.json (runtime-spec 1.x)
# read through jansson into struct oci_spec, its field tables, and the
# lists `features` prints from them. Not in COMMON_OBJ (common/*.c only):
# stages 1-12 link statically and never with jansson or libseccomp (whose
# constants name the spec's seccomp actions and architectures).
OCI_SPEC_SRC  := $(wildcard common/oci/*.c)
OCI_SPEC_OBJ  := $(OCI_SPEC_SRC:%.c=$(BUILD)/%.o)
OCI_SPEC_LIBS := -ljansson -lseccomp

DEPS_OCI_SPEC := libjansson-dev libseccomp-dev
DEPS_RUN  += $(DEPS_OCI_SPEC)
DEPS_TEST += $(DEPS_OCI_SPEC)

.PHONY: oci-spec-objs
oci-spec-objs: $(OCI_SPEC_OBJ)

-include $(OCI_SPEC_OBJ:.o=.d)
