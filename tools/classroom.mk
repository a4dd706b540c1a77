# Classroom: grade a fork, make the learner's skeleton, check the host.

GRADE_ENV := MAKE="$(MAKE)" BUILD="$(BUILD)" TEST_ROOTFS="$(TEST_ROOTFS)"

.PHONY: grade $(STAGE_NUMS:%=grade-stage-%)

# Every stage's cumulative suites, a score table, JUnit XML and JSON in
# build/grade/ (root). Exits non-zero unless every test passed.
grade:
	@$(GRADE_ENV) tools/grade.sh

# One stage, as GitHub Classroom runs it (.github/classroom/autograding.json).
$(STAGE_NUMS:%=grade-stage-%): grade-stage-%:
	@$(GRADE_ENV) tools/grade.sh $*
