# A newcomer's set-up: the README's commands as root without sudo and as a
# user with sudo, and the unprivileged parts from a checkout in a home
# directory of mode 0750 (root, about a minute).

TEST_PARTS += test-setup

.PHONY: test-setup

test-setup:
	@rc=0; bash tests/setup/readme_test.sh || rc=1; \
	SETUP_TEST_TMP=$(abspath $(BUILD)) bash tests/setup/anywhere_test.sh || rc=1; \
	exit $$rc
