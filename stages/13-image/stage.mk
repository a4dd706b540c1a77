# Stage 13: its spine, its lesson, the lessons of stages 9 to 12 as they
# are, and the plumbing of images (common/image/: HTTP, JSON, tar,
# digests). libcurl has no static build on Debian, so it links
# dynamically (the Makefile's STAGE_DYNAMIC_N), with libseccomp and
# jansson linked in all the same (the Makefile's STATIC_ARCHIVES).
STAGE_SRC_13     := stages/13-image/main.c stages/13-image/image.c \
	stages/12-overlay/overlay.c stages/11-walls/walls.c \
	stages/10-privs/privs.c stages/09-limits/limits.c
STAGE_OBJ_13      = $(IMAGE_OBJ)
STAGE_LIBS_13     = -lseccomp $(IMAGE_LIBS)
STAGE_DYNAMIC_13 := yes
