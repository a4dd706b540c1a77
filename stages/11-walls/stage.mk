# Stage 11: its spine, its lesson, and the lessons of stages 9 and 10 as
# they are.
STAGE_SRC_11  := stages/11-walls/main.c stages/11-walls/walls.c \
	stages/10-privs/privs.c stages/09-limits/limits.c
STAGE_LIBS_11 := -lseccomp
