#!/bin/bash
# Build the arm64 Image, the uAPI headers and the iommu kselftests from
# build/linux, out of tree in build/kobj[-VARIANT], with ccache.
#
#   scripts/kernel-build.sh [default|debug|64k]
# The config is allnoconfig + config/{base,iommu,test}.config (+ debug.config
# for the debug variant, 64k.config for the 64K-page one); any option of the
# fragments that does not end up in .config as asked stops the build.
set -euo pipefail
. "$(dirname "$0")/common.sh"

VARIANT=${1:-default}
frags=("$TOP/config/base.config" "$TOP/config/iommu.config" "$TOP/config/test.config")
case $VARIANT in
default) ;;
debug) frags+=("$TOP/config/debug.config") ;;
64k) frags+=("$TOP/config/64k.config") ;;
*) die "unknown kernel variant '$VARIANT'" ;;
esac
[ "$VARIANT" = default ] || KOBJ=$KOBJ-$VARIANT
"$TOP/scripts/tree.sh" linux
mkdir -p "$KOBJ"

# --- config ------------------------------------------------------------
# Regenerated whenever the fragments or the series change: a new Kconfig
# symbol of the series must get the value a fresh allnoconfig gives it, not
# the default an old .config would pick up, or an incremental build would
# differ from a clean one.
{ cat "${frags[@]}"; echo "# series $(cat "$LINUX/.git/viommu-series-hash")"; } \
	> "$KOBJ/fragment.config.new"
if ! cmp -s "$KOBJ/fragment.config.new" "$KOBJ/fragment.config" || ! [ -f "$KOBJ/.config" ]; then
	info "configuring ($VARIANT): allnoconfig + ${frags[*]##*/}"
	kmake KCONFIG_ALLCONFIG="$KOBJ/fragment.config.new" allnoconfig
	bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) grep -qxF "$line" "$KOBJ/.config" ||
			{ echo "error: $line did not stick (missing dependency?)" >&2; bad=1; } ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			! grep -q "^$opt=" "$KOBJ/.config" ||
			{ echo "error: $opt should be unset" >&2; bad=1; } ;;
		esac
	done < "$KOBJ/fragment.config.new"
	[ $bad = 0 ] || { rm -f "$KOBJ/.config"; die "kernel config does not match config/*.config"; }
	mv "$KOBJ/fragment.config.new" "$KOBJ/fragment.config"
else
	rm -f "$KOBJ/fragment.config.new"
fi

# --- kernel and headers --------------------------------------------------
info "building Image ($VARIANT) in ${KOBJ#"$TOP"/}"
kmake HOSTCC="ccache gcc" Image modules headers

# --- kselftests: static, since the initramfs has no libc ----------------
info "building tools/testing/selftests/iommu"
mkdir -p "$KOBJ/selftests/iommu"
make -s -C "$LINUX/tools/testing/selftests/iommu" ARCH=arm64 \
	CROSS_COMPILE=$CROSS CC="ccache ${CROSS}gcc" OUTPUT="$KOBJ/selftests/iommu" \
	KHDR_INCLUDES="-isystem $KOBJ/usr/include" LDFLAGS=-static -j"$(nproc)"
# --- the inner guest's edu test driver (tests/inner.plan) ------------------
"$TOP/scripts/edu-dma-build.sh" "$KOBJ"
info "kernel ($VARIANT) ready: ${KOBJ#"$TOP"/}/arch/arm64/boot/Image"
