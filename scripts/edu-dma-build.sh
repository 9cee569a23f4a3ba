#!/bin/bash
# Build the edu_dma test driver (guest/edu-dma/) as a module of the kernel
# built in KOBJ (default build/kobj): $KOBJ/edu-dma/edu_dma.ko, which
# scripts/initramfs.sh puts in the image as /usr/lib/modules/edu_dma.ko.
#
#   scripts/edu-dma-build.sh [KOBJ]
# Linux 6.12's kbuild puts an external module's objects in its source
# directory, so the sources are copied to $KOBJ/edu-dma/ and built there
# (a copy that changed nothing keeps its time stamp). Nothing is done when
# the module is newer than its sources, this script and the kernel.
set -euo pipefail
. "$(dirname "$0")/common.sh"

kobj=$(realpath -m "${1:-$KOBJ}")
KOBJ=$kobj
src=$TOP/guest/edu-dma
dst=$kobj/edu-dma
ko=$dst/edu_dma.ko
for f in vmlinux Module.symvers .config; do
	[ -f "$kobj/$f" ] || die "no built kernel in ${kobj#"$TOP"/} (no $f: make kernel)"
done
grep -qx 'CONFIG_MODULES=y' "$kobj/.config" ||
	die "the kernel in ${kobj#"$TOP"/} has no CONFIG_MODULES"
# A .config newer than vmlinux: that kernel is being (re)built.
[ "$kobj/vmlinux" -nt "$kobj/.config" ] ||
	die "the kernel in ${kobj#"$TOP"/} is older than its .config (make kernel)"

inputs=("$src"/* "$0" "$kobj/vmlinux" "$kobj/.config")
newest=$(ls -t "${inputs[@]}" | head -n 1)
if [ -f "$ko" ] && [ "$ko" -nt "$newest" ]; then
	info "edu_dma.ko up to date: ${ko#"$TOP"/}"
	exit 0
fi

mkdir -p "$dst"
for f in "$src"/*; do
	cmp -s "$f" "$dst/${f##*/}" || cp "$f" "$dst/"
done
info "building edu_dma.ko against ${kobj#"$TOP"/}"
kmake M="$dst" KCFLAGS=-Werror W=1 modules
[ -f "$ko" ] || die "no ${ko#"$TOP"/} after the build"
touch "$ko"
info "edu_dma.ko ready: ${ko#"$TOP"/}"
