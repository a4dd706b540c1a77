# TUTORIAL.md and the stage READMEs: the diffs, code excerpts and terminal
# sessions in them are generated from the code and from real runs by
# tools/tutorial.sh. `make tutorial` rewrites them in place; `make
# check-tutorial` fails, with a diff, when any of them is out of date.

TUTORIAL_DOCS ?= TUTORIAL.md README.md $(wildcard stages/*/README.md)
# What the sessions run besides the stages: ps (procps), setpriv, unshare
# and findmnt (util-linux), mount, jq (stage 16 edits a config.json).
DEPS_TUTORIAL := procps util-linux mount jq
DEPS_TEST += $(DEPS_TUTORIAL)

.PHONY: tutorial check-tutorial deps-tutorial

# What the sessions run: every stage, the stage 5 fixture without its
# private remount, and the test root filesystem; the runner prints the
# escape catalogue's table.
TUTORIAL_NEEDS := deps-tutorial all $(BUILD)/fixture-no-private test-probe-rootfs \
	$(TEST_RUNNER)

deps-tutorial:
	@tools/deps.sh tutorial $(DEPS_TUTORIAL)

tutorial: $(TUTORIAL_NEEDS)
	BUILD=$(BUILD) tools/tutorial.sh $(TUTORIAL_DOCS)

check-tutorial: $(TUTORIAL_NEEDS)
	BUILD=$(BUILD) tools/tutorial.sh --check $(TUTORIAL_DOCS)
