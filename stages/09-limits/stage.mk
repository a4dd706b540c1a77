# Stage 9: its spine and its lesson.
STAGE_SRC_9  := stages/09-limits/main.c stages/09-limits/limits.c
STAGE_LIBS_9 :=
