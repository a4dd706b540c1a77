# Stage 12: its spine, its lesson, and the lessons of stages 9 to 11 as
# they are.
STAGE_SRC_12  := stages/12-overlay/main.c stages/12-overlay/overlay.c \
	stages/11-walls/walls.c stages/10-privs/privs.c \
	stages/09-limits/limits.c
STAGE_LIBS_12 := -lseccomp
