#!/bin/bash
# Make the initramfs for a plan: /init (guest/init.c), the guest programs
# (every guest/*.c, with guest/lib/), the iommu kselftests, and /plan.
#
#   scripts/initramfs.sh PLAN OUT [KOBJ]
set -euo pipefail
shopt -s nullglob
. "$(dirname "$0")/common.sh"

plan=${1:?usage: initramfs.sh PLAN OUT [KOBJ]} out=${2:?} kobj=${3:-$KOBJ}
# Guest programs: every guest/*.c is one program, and so is every
# directory guest/NAME/ (all its *.c: program NAME) but guest/lib/ and
# guest/edu-dma/ (a kernel module: scripts/edu-dma-build.sh). Each is
# linked with the shared code of guest/lib/, against the uAPI headers of
# the kernel it runs on (so a program sees the series' ioctls), the
# kselftest harness and the mock driver's test uAPI (iommufd_test.h).
gbin=$kobj/guest
mkdir -p "$gbin"
[ -d "$kobj/usr/include" ] || die "no uAPI headers in ${kobj#"$TOP"/}/usr/include (make kernel)"
cflags=(-static -O2 -Wall -Wextra -Werror -D_GNU_SOURCE
	-isystem "$kobj/usr/include" -I "$LINUX/tools/testing/selftests"
	-I "$TOP/guest/lib" -idirafter "$LINUX/drivers/iommu/iommufd")
libsrc=("$TOP"/guest/lib/*.c)
for src in "$TOP"/guest/*.c "$TOP"/guest/*/; do
	src=${src%/}
	case $src in */guest/lib | */guest/edu-dma) continue ;; esac
	srcs=("$src") deps=("$src")
	[ -d "$src" ] && srcs=("$src"/*.c) deps=("$src"/*)
	[ ${#srcs[@]} -gt 0 ] || continue
	prog=$gbin/$(basename "$src" .c)
	newest=$(ls -t "${deps[@]}" "$TOP"/guest/lib/* "$TOP"/guest/edu-dma/*.h \
		"$kobj/usr/include/linux/iommufd.h" \
		"$LINUX/drivers/iommu/iommufd/iommufd_test.h" 2>/dev/null | head -n 1)
	[ "$prog" -nt "$newest" ] && continue
	ccache "${CROSS}gcc" "${cflags[@]}" -o "$prog" "${srcs[@]}" "${libsrc[@]}" -lpthread -lm ||
		die "guest program $(basename "$src") does not build"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp}
cp "$gbin/init" "$stage/init"
for p in "$gbin"/*; do
	[ "$(basename "$p")" = init ] || cp "$p" "$stage/bin/"
done
for p in "$kobj"/selftests/iommu/*; do
	[ -x "$p" ] && cp "$p" "$stage/bin/"
done
# The edu DMA-API test driver (scripts/edu-dma-build.sh), if built; under
# /usr/lib, since QEMU 11.1's tree (scripts/qemu111.sh) makes /lib a link.
[ ! -f "$kobj/edu-dma/edu_dma.ko" ] ||
	install -D -m 644 "$kobj/edu-dma/edu_dma.ko" "$stage/usr/lib/modules/edu_dma.ko"
grep -v '^[[:space:]]*#' "$plan" > "$stage/plan"
# Every program the plan runs must be in the image.
awk '$1 == "run" || $1 == "do" { print $3 }' "$stage/plan" | while read -r p; do
	[ -x "$stage$p" ] || die "$(basename "$plan"): $p is not in the initramfs"
done
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -n -9 > "$out"
