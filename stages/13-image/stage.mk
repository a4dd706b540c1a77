# Stage 13: its spine, its lesson, the lessons of stages 9 to 12 as they
# are, and the plumbing of images (common/image/: HTTP, JSON, tar,
# digests). libcurl has no static build on Debian (the Makefile's
# STAGE_DYNAMIC_N), and is loaded only for a pull (common/lazy.h): so
# stage-13 is linked statically, for a quicker start, and a pull runs in
# its twin, build/stage-13-dynamic, the same sources linked dynamically (the
# Makefile's STAGE_TWIN_N; common/image/libs.h).
STAGE_SRC_13     := stages/13-image/main.c stages/13-image/image.c \
	stages/12-overlay/overlay.c stages/11-walls/walls.c \
	stages/10-privs/privs.c stages/09-limits/limits.c
STAGE_OBJ_13      = $(if $(call stage_twin,13),$(IMAGE_OBJ_STATIC),$(IMAGE_OBJ))
STAGE_TWIN_OBJ_13 = $(IMAGE_OBJ)
STAGE_LIBS_13     = -lseccomp $(IMAGE_LIBS)
STAGE_DYNAMIC_13 := yes
STAGE_TWIN_13    := yes
