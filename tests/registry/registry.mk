# A real registry for the image plumbing (common/image/): registry.sh
# starts Debian's docker-registry with token auth, pushes images made
# with umoci and skopeo, and runs test_registry against it.

TEST_REGISTRY := $(BUILD)/tests/registry/test_registry

# The registry, the image tools, and what registry.sh runs them with
# (openssl signs the token; busybox serves it; curl waits and PUTs).
DEPS_REGISTRY_TEST := docker-registry umoci skopeo openssl busybox-static \
	curl iproute2 libcunit1-dev $(DEPS_IMAGE)
DEPS_TEST += $(DEPS_REGISTRY_TEST)

.PHONY: test-registry

$(BUILD)/tests/registry/%.o: tests/registry/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(TEST_REGISTRY): $(BUILD)/tests/registry/test_registry.o $(IMAGE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit $(IMAGE_LIBS)

# Root: the overlay check mounts, and as root the layers keep owners.
test-registry: $(TEST_REGISTRY) $(TEST_ROOTFS)/.rootfs-ok
	@tools/deps.sh test-registry $(DEPS_REGISTRY_TEST)
	tests/registry/registry.sh $(TEST_ROOTFS) $(TEST_REGISTRY) $(if $(V),-v)

-include $(BUILD)/tests/registry/test_registry.d
