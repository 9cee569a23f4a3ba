#!/bin/bash
# Every commit of the series builds on its own: for each commit base..HEAD,
# in order, build the Image and uAPI headers (with the config of `make
# kernel`) and the iommu kselftests. Uses a
# worktree (build/bisect) and its own object directory, so build/linux and
# build/kobj are left alone; ccache makes repeated runs cheap.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$TOP/scripts/tree.sh" linux
"$TOP/scripts/kernel-build.sh" >/dev/null	# for .config
wt=$BUILD/bisect obj=$KOBJ-bisect
linux_worktree "$wt"
mkdir -p "$obj/selftests"
cp "$KOBJ/.config" "$obj/.config"
n=0 total=$(git -C "$LINUX" rev-list --count base..HEAD)
for c in $(git -C "$LINUX" rev-list --reverse base..HEAD); do
	n=$((n + 1))
	git -C "$wt" checkout -q --detach "$c"
	subj=$(git -C "$wt" log -1 --format=%s)
	start=$(date +%s)
	if ! make -s -C "$wt" O="$obj" ARCH=arm64 CROSS_COMPILE=$CROSS \
		CC="ccache ${CROSS}gcc" HOSTCC="ccache gcc" -j"$(nproc)" \
		olddefconfig Image headers > "$obj/build.log" 2>&1 ||
	   ! make -s -C "$wt/tools/testing/selftests/iommu" ARCH=arm64 \
		CROSS_COMPILE=$CROSS CC="ccache ${CROSS}gcc" OUTPUT="$obj/selftests" \
		KHDR_INCLUDES="-isystem $obj/usr/include" LDFLAGS=-static \
		-j"$(nproc)" >> "$obj/build.log" 2>&1; then
		tail -n 30 "$obj/build.log"
		die "[$n/$total] $subj: does not build"
	fi
	echo "[$n/$total] builds ($(( $(date +%s) - start ))s): $subj"
done
echo "bisect-check: all $total commit(s) build"
