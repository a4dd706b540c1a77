# Stage 15: its spine (main.c, its commands on containers in containers.c
# and the plumbing of run -d in detach.c), its lesson (exec.c,
# monitor.c), the lessons of stages 9 to 14 as they are, and the plumbing
# of detached containers' records (common/ctr/, jansson) beside stage
# 14's. Linked statically as stage 13, for a quicker start and exec
# (issue 25), with its twin build/stage-15-dynamic, which runs the image
# commands and applies the firewall rules (common/net/libs.c): the
# Makefile's STAGE_TWIN_N.
STAGE_SRC_15     := stages/15-exec/main.c stages/15-exec/containers.c \
	stages/15-exec/detach.c stages/15-exec/exec.c \
	stages/15-exec/monitor.c stages/14-net/net.c \
	stages/13-image/image.c stages/12-overlay/overlay.c \
	stages/11-walls/walls.c stages/10-privs/privs.c \
	stages/09-limits/limits.c
STAGE_OBJ_15      = $(if $(call stage_twin,15),$(IMAGE_OBJ_STATIC) \
	$(NET_OBJ_STATIC),$(IMAGE_OBJ) $(NET_OBJ)) $(CTR_OBJ)
STAGE_TWIN_OBJ_15 = $(IMAGE_OBJ) $(NET_OBJ) $(CTR_OBJ)
STAGE_LIBS_15     = -lseccomp $(IMAGE_LIBS) $(NET_LIBS) $(CTR_LIBS)
STAGE_DYNAMIC_15 := yes
STAGE_TWIN_15    := yes
STAGE_SPINE_15   := stages/15-exec/main.c stages/15-exec/containers.c \
	stages/15-exec/detach.c
