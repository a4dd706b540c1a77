# shellcheck shell=bash
# Shared by the classroom tests: one "ok - name" or "not ok - name: why"
# line per check, a count at the end, and a status that says whether all
# passed. Source it, call check, end with summary.

passed=0
failed=0

# check NAME WHY COMMAND...: COMMAND's success passes; else say WHY.
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name: $why"
		failed=$((failed + 1))
	fi
}

# holds FILTER FILE...: whether jq's filter holds (jq -e, quiet).
holds() {
	jq -e "$@" >/dev/null 2>&1
}

# summary: print the count; returns 1 when any check failed or none ran.
summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
