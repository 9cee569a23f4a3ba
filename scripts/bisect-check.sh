#!/bin/bash
# Every commit of the series builds on its own: for each commit base..HEAD,
# in order, build the Image and uAPI headers (with the config of `make
# kernel`) and the iommu kselftests. Then build the series once more in the
# distro configuration (IOMMUFD=m, SMMUv3 and CMDQV built in, build/kobj-distro).
# Uses a worktree (build/bisect) and its own object directories, so build/linux
# and build/kobj are left alone; ccache makes repeated runs cheap.
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

# The distro configuration: iommufd as a module under a built-in SMMUv3 and
# CMDQV. Their vIOMMU support must not compile out, and must only call
# iommufd's built-in driver core. The SMMUv3 KUnit test is a module too, as
# distros build tests: it may only use what the driver exports to it.
dobj=$BUILD/kobj-distro
mkdir -p "$dobj"
{ cat "$TOP"/config/{base,iommu,test}.config
  printf '%s\n' CONFIG_IOMMUFD=m CONFIG_VFIO=m CONFIG_VFIO_PCI=m \
		CONFIG_ARM_SMMU_V3_KUNIT_TEST=m; } > "$dobj/fragment.config"
git -C "$wt" checkout -q --detach "$(git -C "$LINUX" rev-parse HEAD)"
start=$(date +%s)
make -s -C "$wt" O="$dobj" ARCH=arm64 CROSS_COMPILE=$CROSS \
	CC="ccache ${CROSS}gcc" HOSTCC="ccache gcc" -j"$(nproc)" \
	KCONFIG_ALLCONFIG="$dobj/fragment.config" allnoconfig > "$dobj/build.log" 2>&1 ||
	die "distro config: allnoconfig failed"
for opt in CONFIG_IOMMUFD=m CONFIG_ARM_SMMU_V3=y CONFIG_TEGRA241_CMDQV=y \
	   CONFIG_ARM_SMMU_V3_IOMMUFD=y CONFIG_IOMMUFD_DRIVER_CORE=y \
	   CONFIG_ARM_SMMU_V3_KUNIT_TEST=m; do
	grep -qxF "$opt" "$dobj/.config" || die "distro config: $opt did not stick"
done
if ! make -s -C "$wt" O="$dobj" ARCH=arm64 CROSS_COMPILE=$CROSS \
	CC="ccache ${CROSS}gcc" HOSTCC="ccache gcc" -j"$(nproc)" \
	Image modules >> "$dobj/build.log" 2>&1; then
	tail -n 30 "$dobj/build.log"
	die "distro config (IOMMUFD=m): does not build"
fi
"${CROSS}nm" "$dobj/vmlinux" > "$dobj/vmlinux.nm"
for sym in iommufd_viommu_alloc_mmap iommufd_viommu_destroy_mmap \
	   iommufd_viommu_report_event; do
	grep -qw "T $sym" "$dobj/vmlinux.nm" ||
		die "distro config: $sym is not built in"
done
echo "distro config (IOMMUFD=m) builds ($(( $(date +%s) - start ))s)"
