# Stage 14: its spine, its lesson, the lessons of stages 9 to 13 as they
# are, the plumbing of images (common/image/) and of the network
# (common/net/: netlink spoken by hand, rules through libnftables,
# leases). Debian ships no static archive of libnftables (loaded at its
# first use, common/net/libs.c), and stage 13's libcurl has none either:
# it links dynamically.
STAGE_SRC_14     := stages/14-net/main.c stages/14-net/net.c \
	stages/13-image/image.c stages/12-overlay/overlay.c \
	stages/11-walls/walls.c stages/10-privs/privs.c \
	stages/09-limits/limits.c
STAGE_OBJ_14      = $(IMAGE_OBJ) $(NET_OBJ)
STAGE_LIBS_14     = -lseccomp $(IMAGE_LIBS) $(NET_LIBS)
STAGE_DYNAMIC_14 := yes
