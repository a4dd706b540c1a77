# Stage 15: its spine (main.c, its commands on containers in containers.c
# and the plumbing of run -d in detach.c), its lesson (exec.c,
# monitor.c), the lessons of stages 9 to 14 as they are, and the plumbing
# of detached containers' records (common/ctr/, jansson) beside stage
# 14's. Dynamic, as 14.
STAGE_SRC_15     := stages/15-exec/main.c stages/15-exec/containers.c \
	stages/15-exec/detach.c stages/15-exec/exec.c \
	stages/15-exec/monitor.c stages/14-net/net.c \
	stages/13-image/image.c stages/12-overlay/overlay.c \
	stages/11-walls/walls.c stages/10-privs/privs.c \
	stages/09-limits/limits.c
STAGE_OBJ_15      = $(IMAGE_OBJ) $(NET_OBJ) $(CTR_OBJ)
STAGE_LIBS_15     = -lseccomp $(IMAGE_LIBS) $(NET_LIBS) $(CTR_LIBS)
STAGE_DYNAMIC_15 := yes
STAGE_SPINE_15   := stages/15-exec/main.c stages/15-exec/containers.c \
	stages/15-exec/detach.c
