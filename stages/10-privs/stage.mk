# Stage 10: its spine, its lesson, and stage 9's lesson as it is.
STAGE_SRC_10  := stages/10-privs/main.c stages/10-privs/privs.c \
	stages/09-limits/limits.c
STAGE_LIBS_10 := -lseccomp
