# common/image/: the plumbing of pulling and storing images (stage 13 on).
# Not in COMMON_OBJ (common/*.c only): stages 1-12 link statically and
# never with these libraries. libcurl and libarchive have no complete
# static build on Debian 12 (libcurl.a needs nghttp2, psl, ssh2, rtmp,
# gssapi_krb5 and ldap, which ship no .a; libarchive.a wants acl, lz4 and
# zstd ones), so a stage using IMAGE_OBJ links dynamically.
IMAGE_SRC  := $(wildcard common/image/*.c)
IMAGE_OBJ  := $(IMAGE_SRC:%.c=$(BUILD)/%.o)
# libcurl, libarchive and libcrypto are not linked: common/image/libs.c
# loads them at the first pull (common/lazy.h says why).
IMAGE_LIBS := -ljansson
# The same objects for a static program, libs.c without dlopen() (stage
# 13: common/image/libs.h).
IMAGE_OBJ_STATIC := $(IMAGE_OBJ:%/libs.o=%/libs-static.o)
$(BUILD)/common/image/libs-static.o: common/image/libs.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DLAZY_STATIC $(CFLAGS) -c -o $@ $<

# Their headers and libraries (Debian's names).
DEPS_IMAGE := libcurl4-openssl-dev libjansson-dev libarchive-dev libssl-dev
DEPS_RUN   += $(DEPS_IMAGE)
DEPS_TEST  += $(DEPS_IMAGE)
# newuidmap and newgidmap: a rootless pull and run map the user's
# subordinate ids (/etc/subuid, /etc/subgid) with them, as podman does.
DEPS_RUN   += uidmap
DEPS_TEST  += uidmap

.PHONY: image-objs
image-objs: $(IMAGE_OBJ)

-include $(IMAGE_OBJ:.o=.d) $(BUILD)/common/image/libs-static.d
