#!/bin/bash
# Run test plans in VMs and count their results.
#
#   scripts/check.sh [-k default|debug] PLAN...   (PLAN: a tests/*.plan file)
#
# Each plan boots its own VM. Console logs go to build/logs/PLAN.log; the
# table and the final "N passed, N failed" line come from results.awk.
set -euo pipefail
. "$(dirname "$0")/common.sh"

variant=default
[ "${1:-}" = -k ] && { variant=$2; shift 2; }
[ $# -gt 0 ] || die "usage: check.sh [-k VARIANT] PLAN..."
pairs=() vmfail=0
for plan in "$@"; do
	name=$(basename "$plan" .plan)
	[ "$variant" = default ] || name=$name-$variant
	log=$BUILD/logs/$name.log
	# The debug variant of a plan ends with a kmemleak scan.
	if [ "$variant" = debug ] && grep -q '^topology \(single\|dual\|realvmm\)' "$plan"; then
		mkdir -p "$BUILD/plans"
		{ cat "$plan"; echo "run kmemleak /bin/kmemleak"; } > "$BUILD/plans/$name.plan"
		plan=$BUILD/plans/$name.plan
	fi
	start=$(date +%s)
	rc=0
	mkdir -p "$(dirname "$log")"
	if [ "$(awk '$1 == "topology" { print $2 }' "$plan")" = host ]; then
		info "$name: running on the host (log: ${log#"$TOP"/})"
		awk '$1 == "run" { $1 = ""; print }' "$plan" | while read -r suite cmd; do
			echo "# viommu-suite: $suite"
			s=0; (cd "$TOP" && $cmd) || s=$?
			echo "# viommu-exit: $suite $s"
		done > "$log" 2>&1
		info "$name: done in $(( $(date +%s) - start ))s"
		pairs+=("$plan" "$log")
		continue
	fi
	info "$name: booting (console: ${log#"$TOP"/})"
	# "trace PATTERN" lines: QEMU trace events to record for the host checks.
	trace=$BUILD/logs/$name.trace
	vmargs=()
	for t in $(awk '$1 == "trace" { print $2 }' "$plan"); do
		vmargs+=(-T "$t")
	done
	[ ${#vmargs[@]} = 0 ] || vmargs+=(-o "$trace")
	"$TOP/scripts/boot.sh" -q -k "$variant" -l "$log" "$plan" "${vmargs[@]}" || rc=$?
	info "$name: VM done in $(( $(date +%s) - start ))s (status $rc)"
	[ $rc -lt 2 ] || vmfail=1
	# "host NAME CMD ARGS" lines: checks run on the build machine after
	# the VM, with @trace and @console standing for the two files; their
	# TAP joins the console log as suite NAME.
	awk '$1 == "host" { $1 = ""; print }' "$plan" | while read -r suite cmd; do
		cmd=${cmd//@trace/$trace}
		cmd=${cmd//@console/$log}
		echo "# viommu-suite: $suite"
		s=0; (cd "$TOP" && $cmd) || s=$?
		echo "# viommu-exit: $suite $s"
	done >> "$log" 2>&1
	pairs+=("$plan" "$log")
done
echo
rc=0
awk -f "$TOP/scripts/results.awk" "${pairs[@]}" || rc=$?
[ $vmfail = 0 ] || { echo "error: a VM did not power off (see above)" >&2; rc=1; }
exit $rc
