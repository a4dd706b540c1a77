# common/net/: the plumbing of stage 14's network (netlink spoken by
# hand in nlmsg.c, firewall rules through libnftables, address leases).
# Not in COMMON_OBJ (common/*.c only): stages 1-12 never need it. Debian
# 12 ships no libnftables.a, and libs.c loads it with dlopen(), so a
# stage using NET_OBJ links dynamically (stage 14), or statically with
# NET_OBJ_STATIC and a dynamic twin that runs the rules (stages 15, 16).
NET_SRC  := $(wildcard common/net/*.c)
NET_OBJ  := $(NET_SRC:%.c=$(BUILD)/%.o)
# No library is linked: netlink needs none (nlmsg.c speaks it from the
# kernel's headers), and common/net/libs.c loads libnftables when a
# container first needs a rule (common/lazy.h says why).
NET_LIBS :=
# The same objects for a static program, libs.c running the rules in the
# program's twin (stages 15 and 16: common/net/libs.c).
NET_OBJ_STATIC := $(NET_OBJ:%/libs.o=%/libs-static.o)
$(BUILD)/common/net/libs-static.o: common/net/libs.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DLAZY_STATIC $(CFLAGS) -c -o $@ $<
# Stage 14's stage.mk: its spine, stages/14-net/net.c and the earlier
# lessons in STAGE_SRC_14; $(NET_OBJ) (and $(IMAGE_OBJ)) linked in, with
# $(NET_LIBS) in STAGE_LIBS_14, and STAGE_LDFLAGS empty for it (no
# static archives, above). tests/net/net.mk builds test_net the same way.

# Their headers and libraries, and slirp4netns for the rootless network
# (Debian's names).
DEPS_NET  := libnftables-dev slirp4netns
DEPS_RUN  += $(DEPS_NET)
DEPS_TEST += $(DEPS_NET)

.PHONY: net-objs
net-objs: $(NET_OBJ)

-include $(NET_OBJ:.o=.d) $(BUILD)/common/net/libs-static.d
