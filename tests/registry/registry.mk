# A real registry for the image plumbing (common/image/): registry.sh
# starts Debian's docker-registry with token auth, pushes images made
# with umoci and skopeo, and runs test_registry against it.

TEST_REGISTRY := $(BUILD)/tests/registry/test_registry

# The image tools, and what registry.sh runs them with (openssl signs the
# token; busybox serves it; curl waits and PUTs; ss finds a free port;
# setpriv runs the rootless pass). Not the registry's package: it would
# also install and start a system service listening on every address;
# the tests take its program alone (tools/deb-bin.sh).
DEPS_REGISTRY_TEST := umoci skopeo openssl busybox-static \
	curl iproute2 util-linux libcunit1-dev $(DEPS_IMAGE)
DEPS_TEST += $(DEPS_REGISTRY_TEST)

.PHONY: test-registry

# About 10 s (the registry, four images pushed, two runs).
TEST_PARTS += test-registry

# It pulls with stage 13's lesson (image.c's pull_image()), not a copy
# of it: the learner's edition holds no answer, and there the tests that
# pull wait for the learner's lesson. It writes its layers' tars itself,
# with libarchive linked.
$(BUILD)/tests/registry/%.o: tests/registry/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -iquote stages/13-image/ -iquote tests/ $(CFLAGS) -c -o $@ $<

$(TEST_REGISTRY): $(BUILD)/tests/registry/test_registry.o $(BUILD)/tests/serve.o \
		$(BUILD)/stages/13-image/image.o $(IMAGE_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit $(IMAGE_LIBS) -larchive

# As root, the program runs twice: as root (layers keep their owners,
# trusted.* marks too) and as nobody (the rootless store: whiteouts and
# user.* marks only, the overlay check in a user namespace).
REGISTRY_NOBODY := setpriv --reuid 65534 --regid 65534 --clear-groups \
	env HOME=/nonexistent TMPDIR=/tmp
REGISTRY_BIN := $(BUILD)/tools/docker-registry
$(REGISTRY_BIN):
	tools/deb-bin.sh docker-registry /usr/bin/docker-registry $@

test-registry: $(TEST_REGISTRY) $(TEST_ROOTFS)/.rootfs-ok $(REGISTRY_BIN)
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: test-registry skipped: it needs root (umoci keeps the test image's owners; the mount checks): run sudo make test-registry" >&2; \
		exit 1; fi
	@tools/deps.sh test-registry $(DEPS_REGISTRY_TEST)
	@# The pull's libraries and libnftables are loaded at first use
	@# (common/lazy.h), so no stage may link them: each start would map
	@# them and the forty-odd libraries they bring.
	@for s in $(foreach n,$(STAGE_NUMS),$(if $(call stage_dynamic,$(n)),$(BUILD)/stage-$(n))) $(STAGE_TWINS); do \
		$(MAKE) --no-print-directory -s $$s || exit; \
		linked=$$(ldd $$s | grep -oE 'lib(curl|archive|crypto|nftables)\.so[^ ]*' | sort -u | paste -sd ' '); \
		[ -z "$$linked" ] || { echo "test-registry: $$s links $$linked, which it must load at first use (common/lazy.h)" >&2; exit 1; }; \
	done
	@# A stage with a twin runs containers without the dynamic loader
	@# (the Makefile's STAGE_TWIN_N): its start would cost a tenth more.
	@for s in $(subst -dynamic,,$(STAGE_TWINS)); do \
		$(MAKE) --no-print-directory -s $$s || exit; \
		! ldd $$s >/dev/null 2>&1 || { echo "test-registry: $$s is linked dynamically, where its twin $$s-dynamic should be the only one (the Makefile's STAGE_TWIN_N)" >&2; exit 1; }; \
	done
	REGISTRY_BIN=$(REGISTRY_BIN) tests/registry/registry.sh $(TEST_ROOTFS) sh -c '\
		$(TEST_REGISTRY) $(if $(V),-v) || exit; \
		echo "test_registry: again as nobody"; \
		$(REGISTRY_NOBODY) $(TEST_REGISTRY) $(if $(V),-v)'


-include $(BUILD)/tests/registry/test_registry.d
