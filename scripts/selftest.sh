# The self-tests of the trace checks (check-*.sh --self-test); sourced.
# shellcheck shell=bash
#
#   expect_check pass|fail NAME CMD...
#
# runs CMD (the check on a synthetic trace) and prints the next TAP line
# ($t counts them): ok if CMD passed, or failed, as expected; else not ok
# with CMD's output, and failed=1.
expect_check() {
	local want=$1 name=$2 out rc
	shift 2
	t=$((t + 1))
	if out=$("$@" 2>&1); then rc=pass; else rc=fail; fi
	if [ "$rc" = "$want" ]; then
		echo "ok $t $name"
	else
		echo "not ok $t $name (the check said $rc)"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
		failed=1
	fi
}
