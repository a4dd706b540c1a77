# Classroom: grade a fork, make the learner's skeleton, check the host.

GRADE_ENV := MAKE="$(MAKE)" BUILD="$(BUILD)" TEST_ROOTFS="$(TEST_ROOTFS)"

# grade.sh presents the runner's JSON results with jq.
DEPS_TEST += jq

.PHONY: grade $(STAGE_NUMS:%=grade-stage-%)

# Every stage's cumulative suites, a score table and JSON in
# build/grade/ (root). Exits non-zero unless every test passed.
grade: deps-test
	@$(GRADE_ENV) tools/grade.sh

# One stage, as GitHub Classroom runs it (.github/classroom/autograding.json).
$(STAGE_NUMS:%=grade-stage-%): grade-stage-%: deps-test
	@$(GRADE_ENV) tools/grade.sh $*

.PHONY: classroom-config

# Write .github/classroom/autograding.json and .github/workflows/classroom.yml
# for the stages there are (test-classroom checks they are up to date).
classroom-config:
	@tools/classroom-config.sh

.PHONY: student doctor test-classroom $(STAGE_NUMS:%=carry-%)

# The learner's edition: a repository of its own with every lesson
# (tools/lessons.tsv) stubbed in the file it lives in (a lesson of stages
# 1-8 in every later main.c too), and docs without the answers.
student: deps-student
	@tools/student.sh "$(DEST)"

# The student edition is a git repository of its own.
DEPS_STUDENT := git
DEPS_TEST += $(DEPS_STUDENT)

.PHONY: deps-student
deps-student:
	@tools/deps.sh student $(DEPS_STUDENT)

# In the student edition: the learner's own functions of stage N-1's
# main.c into the stubs of stage N's main.c, under the TODOs of stage N
# (a lesson of stage 9 on is in its own file, used as it is: no carry).
$(STAGE_NUMS:%=carry-%): carry-%:
	@tools/carry.sh $*

# Whether this machine can run the stages and their tests, what an earlier
# run left behind (mounts under build/, groups of dead runtimes), and what
# to do about each.
doctor:
	@tools/doctor.sh

# The Classroom configuration up to date, the doctor on fake machines (and
# the leftovers it finds), make clean on a tree with mounts in it, what
# the student edition holds (no answer, TODOs that name what is checked),
# the student edition graded (it must fail, for its stubs) with one stage
# filled in from the reference (that stage must pass), a learner's mistake
# graded (put down to the stage that made it, its repeats folded), and
# this tree graded (it must pass); each runs even when one before failed.
# The edition skeleton_test.sh makes and builds is the one student_test.sh
# grades: made once, not twice. The doctor's tests, half a minute of a
# shell busy on one core with fake trees of their own (no root, no
# container, nothing of the build), run beside student_test.sh, which
# waits on containers and leaves the other core mostly idle; their output
# is shown after it, whole.
test-classroom:
	@rc=0; tools/classroom-config.sh --check || rc=1; \
	edition=$(abspath $(BUILD))/classroom-edition; rm -rf "$$edition"; \
	CLASSROOM_EDITION="$$edition" MAKE="$(MAKE)" BUILD="$(BUILD)" bash tests/classroom/skeleton_test.sh || rc=1; \
	BUILD="$(BUILD)" bash tests/classroom/clean_test.sh || rc=1; \
	$(GRADE_ENV) bash tests/classroom/misblame_test.sh || rc=1; \
	doctor_log=$$(mktemp) || exit 1; \
	bash tests/classroom/doctor_test.sh >"$$doctor_log" 2>&1 & doctor=$$!; \
	[ ! -d "$$edition" ] || export CLASSROOM_EDITION="$$edition"; \
	$(GRADE_ENV) bash tests/classroom/student_test.sh || rc=1; \
	wait $$doctor || rc=1; cat "$$doctor_log"; rm -f "$$doctor_log"; \
	rm -rf --one-file-system "$$edition"; exit $$rc
