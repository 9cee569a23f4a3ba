#!/bin/bash
# Boot the VM of one test plan: make its initramfs, then run scripts/vm.sh
# with the plan's topology, timeout and kernel command line.
#
#   scripts/boot.sh [-q] [-k VARIANT] [-l LOG] PLAN [vm.sh options...]
# Exit status as vm.sh's.
set -euo pipefail
. "$(dirname "$0")/common.sh"

quiet=() variant=default log=
while [ $# -gt 0 ]; do
	case $1 in
	-q) quiet=(-q); shift ;;
	-k) variant=$2; shift 2 ;;
	-l) log=$2; shift 2 ;;
	*) break ;;
	esac
done
plan=${1:?usage: boot.sh [-q] [-k VARIANT] [-l LOG] PLAN [vm.sh options]}
shift
kobj=$KOBJ name=$(basename "$plan" .plan)
[ "$variant" = default ] || { kobj=$KOBJ-$variant; name=$name-$variant; }
kernel=$kobj/arch/arm64/boot/Image
[ -f "$kernel" ] || die "no kernel at ${kernel#"$TOP"/} (make kernel)"

initrd=$BUILD/initramfs/$name.cpio.gz
"$TOP/scripts/initramfs.sh" "$plan" "$initrd" "$kobj"
topo=$(awk '$1 == "topology" { print $2 }' "$plan")
tmo=$(awk '$1 == "timeout" { print $2 }' "$plan")
app=$(awk '$1 == "append" { $1 = ""; print }' "$plan")
[ -n "$topo" ] || die "$plan names no topology"
exec "$TOP/scripts/vm.sh" "${quiet[@]}" ${log:+-l "$log"} -t "${tmo:-600}" \
	-a "$app" "$@" "$topo" "$kernel" "$initrd"
