# Stage 16: its spine (main.c, with what outgrew it beside it: the OCI
# command line in commands.c, the steps of the container's processes in
# spec_child.c, the OCI container's cgroups in cgroups.c), its lesson
# (oci.c), the lessons of stages 9 to 15 and stage 15's commands on
# containers (containers.c) and plumbing of run -d (detach.c) as they
# are, and the plumbing of config.json (common/oci/, jansson and
# libseccomp) beside stage 15's. Static with a twin, as 15 (issue 26).
STAGE_SRC_16     := stages/16-oci/main.c stages/16-oci/commands.c \
	stages/16-oci/spec_child.c stages/16-oci/cgroups.c \
	stages/16-oci/oci.c stages/15-exec/containers.c \
	stages/15-exec/detach.c stages/15-exec/exec.c \
	stages/15-exec/monitor.c stages/14-net/net.c \
	stages/13-image/image.c stages/12-overlay/overlay.c \
	stages/11-walls/walls.c stages/10-privs/privs.c \
	stages/09-limits/limits.c
STAGE_OBJ_16      = $(if $(call stage_twin,16),$(IMAGE_OBJ_STATIC) \
	$(NET_OBJ_STATIC),$(IMAGE_OBJ) $(NET_OBJ)) $(CTR_OBJ) $(OCI_SPEC_OBJ)
STAGE_TWIN_OBJ_16 = $(IMAGE_OBJ) $(NET_OBJ) $(CTR_OBJ) $(OCI_SPEC_OBJ)
STAGE_LIBS_16     = -lseccomp $(IMAGE_LIBS) $(NET_LIBS) $(CTR_LIBS) \
	$(OCI_SPEC_LIBS)
STAGE_DYNAMIC_16 := yes
STAGE_TWIN_16    := yes
STAGE_SPINE_16   := stages/16-oci/main.c stages/16-oci/commands.c \
	stages/16-oci/spec_child.c stages/16-oci/cgroups.c
