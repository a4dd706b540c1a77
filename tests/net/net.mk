# Stage 14's network without a stage: common/net/ and the lesson
# stages/14-net/net.c driven by test_net on plain processes, in network
# namespaces it makes itself; net.sh checks that the machine's own
# interfaces and firewall are the same after as before.

TEST_NET := $(BUILD)/tests/net/test_net
NET_LESSON_OBJ := $(BUILD)/stages/14-net/net.o

# ip lists links and routes inside the namespaces; nft lists the
# machine's ruleset for the before-and-after check.
DEPS_NET_TEST := iproute2 nftables libcunit1-dev $(DEPS_NET)
DEPS_TEST += $(DEPS_NET_TEST)

.PHONY: test-net

# About a second: it builds nothing but its own program.
TEST_PARTS += test-net

$(BUILD)/tests/net/%.o: tests/net/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -iquote stages/14-net -Itests $(CFLAGS) -c -o $@ $<

$(NET_LESSON_OBJ): CPPFLAGS += -iquote stages/14-net

# tests/netns.c: the namespaces and the outside host, shared with suite 14;
# tests/cu_run.c: the suites run as test_exec and test_oci run theirs.
$(TEST_NET): $(BUILD)/tests/net/test_net.o $(BUILD)/tests/netns.o $(BUILD)/tests/cu_run.o $(NET_LESSON_OBJ) $(NET_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit $(NET_LIBS)

test-net: $(TEST_NET)
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: test-net skipped: it needs root (network namespaces, nftables): run sudo make test-net" >&2; \
		exit 1; fi
	@tools/deps.sh test-net $(DEPS_NET_TEST)
	tests/net/net.sh $(TEST_NET) $(if $(V),-v)

-include $(BUILD)/tests/net/test_net.d
