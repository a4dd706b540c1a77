# The proof that check-tutorial fails when the code changes under the
# tutorial, and passes again after make tutorial (root, a few seconds).

.PHONY: test-tutorial

test-tutorial:
	TUTORIAL_TEST_TMP=$(abspath $(BUILD)) bash tests/tutorial/tutorial_test.sh
