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
# "inner PLAN": this VM is a KVM host that runs Debian's QEMU 11.1 on an
# inner guest. Prepended to its initramfs, uncompressed: QEMU 11.1 with its
# libraries and UEFI firmware (scripts/qemu111.sh, cached by its pin), and
# /inner/Image with /inner/initrd, the initramfs of PLAN. The inner guest
# always runs the default kernel (a debug kernel there would only slow the
# nested guest down: what the debug variant checks runs in this VM).
inner=$(awk '$1 == "inner" { print $2 }' "$plan")
if [ -n "$inner" ]; then
	[ -f "$KOBJ/arch/arm64/boot/Image" ] || die "no default kernel for the inner guest (make kernel)"
	q111=$("$TOP/scripts/qemu111.sh" | tail -n 1)
	[ -f "$q111/qemu111.cpio" ] || die "scripts/qemu111.sh gave no cpio"
	# Named for this plan and variant: runs of other plans or variants
	# never write the file this one is reading.
	inner_initrd=$BUILD/initramfs/$name.$(basename "$inner" .plan).cpio.gz
	"$TOP/scripts/initramfs.sh" "$TOP/$inner" "$inner_initrd" "$KOBJ"
	stage=$(mktemp -d)
	mkdir "$stage/inner"
	cp "$KOBJ/arch/arm64/boot/Image" "$stage/inner/Image"
	cp "$inner_initrd" "$stage/inner/initrd"
	(cd "$stage" && find . | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet) > "$stage.cpio"
	cat "$q111/qemu111.cpio" "$stage.cpio" "$initrd" > "$BUILD/initramfs/$name.full.cpio"
	rm -rf "$stage" "$stage.cpio"
	initrd=$BUILD/initramfs/$name.full.cpio
fi
mem=$(awk '$1 == "memory" { print $2 }' "$plan")
topo=$(awk '$1 == "topology" { print $2 }' "$plan")
tmo=$(awk '$1 == "timeout" { print $2 }' "$plan")
app=$(awk '$1 == "append" { $1 = ""; print }' "$plan")
[ -n "$topo" ] || die "$plan names no topology"
exec "$TOP/scripts/vm.sh" "${quiet[@]}" ${log:+-l "$log"} -t "${tmo:-600}" ${mem:+-m "$mem"} \
	-a "$app" "$@" "$topo" "$kernel" "$initrd"
