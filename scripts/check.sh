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
kobj=$KOBJ
[ "$variant" = default ] || kobj=$KOBJ-$variant
kernel=$kobj/arch/arm64/boot/Image
[ -f "$kernel" ] || die "no kernel at ${kernel#"$TOP"/} (make kernel)"

pairs=() vmfail=0
for plan in "$@"; do
	name=$(basename "$plan" .plan)
	[ "$variant" = default ] || name=$name-$variant
	initrd=$BUILD/initramfs/$name.cpio.gz
	log=$BUILD/logs/$name.log
	"$TOP/scripts/initramfs.sh" "$plan" "$initrd" "$kobj"
	topo=$(awk '$1 == "topology" { print $2 }' "$plan")
	tmo=$(awk '$1 == "timeout" { print $2 }' "$plan")
	app=$(awk '$1 == "append" { $1 = ""; print }' "$plan")
	info "$name: booting '$topo' (log: ${log#"$TOP"/})"
	start=$(date +%s)
	rc=0
	"$TOP/scripts/vm.sh" -q -t "${tmo:-600}" -l "$log" -a "$app" "$topo" "$kernel" "$initrd" || rc=$?
	info "$name: VM done in $(( $(date +%s) - start ))s (status $rc)"
	[ $rc -lt 2 ] || vmfail=1
	pairs+=("$plan" "$log")
done
echo
rc=0
awk -f "$TOP/scripts/results.awk" "${pairs[@]}" || rc=$?
[ $vmfail = 0 ] || { echo "error: a VM did not power off (see above)" >&2; rc=1; }
exit $rc
