# make fuzz: the argument parser (common/args.c) under libFuzzer with ASan
# and UBSan, for FUZZ_TIME seconds, from the seeds in tests/fuzz/corpus.
# What it finds goes to build/fuzz/ (crash-* files), never into the seeds.

FUZZ_CC   ?= clang-14
# 20 s: the parser's coverage stops growing within seconds from the seeds;
# longer runs are for `make fuzz FUZZ_TIME=600` by hand.
FUZZ_TIME ?= 20
FUZZ_BIN  := $(BUILD)/fuzz/fuzz_args
DEPS_FUZZ := clang-14 libclang-rt-14-dev
DEPS_TEST += $(DEPS_FUZZ)
TEST_PARTS += fuzz

.PHONY: fuzz deps-fuzz

deps-fuzz:
	@tools/deps.sh fuzz $(DEPS_FUZZ)

$(FUZZ_BIN): tests/fuzz/fuzz_args.c common/args.c common/args.h common/caps.c common/caps.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(CFLAGS) -fno-sanitize-recover=all \
		-fsanitize=fuzzer,address,undefined -o $@ \
		tests/fuzz/fuzz_args.c common/args.c common/caps.c

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus
	cd $(BUILD)/fuzz && ./fuzz_args -max_total_time=$(FUZZ_TIME) \
		-timeout=10 -print_final_stats=1 corpus $(CURDIR)/tests/fuzz/corpus
