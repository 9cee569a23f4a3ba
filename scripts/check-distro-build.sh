#!/bin/bash
# The configuration distributions ship: iommufd (and VFIO) as modules under
# a built-in SMMUv3 and Tegra241 CMDQV. The SMMUv3 vIOMMU support must not
# compile out, and the built-in drivers may only call the part of iommufd
# that is built in too (IOMMUFD_DRIVER_CORE, drivers/iommu/iommufd/driver.c):
# a call into iommufd.ko would not link. Builds drivers/iommu/ of build/linux
# in that configuration (build/kobj-distro-check) and checks the objects, so
# it costs a few minutes, not a kernel; `make bisect-check` links the whole
# kernel in the same configuration.
#
#   scripts/check-distro-build.sh      TAP
set -uo pipefail
. "$(dirname "$0")/common.sh"

obj=$BUILD/kobj-distro-check
n=0 failed=0
tap() { # OK DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}
dmake() {
	make -s -C "$LINUX" O="$obj" ARCH=arm64 CROSS_COMPILE=$CROSS \
		CC="ccache ${CROSS}gcc" HOSTCC="ccache gcc" -j"$(nproc)" "$@"
}

echo "TAP version 13"
echo "1..4"
[ -d "$LINUX/.git" ] || { echo "Bail out! no build/linux (make tree)"; exit 1; }
mkdir -p "$obj"
{ cat "$TOP"/config/{base,iommu,test}.config
  printf '%s\n' CONFIG_IOMMUFD=m CONFIG_VFIO=m CONFIG_VFIO_PCI=m; } > "$obj/fragment.config"

# 1. The configuration
ok=0
dmake KCONFIG_ALLCONFIG="$obj/fragment.config" allnoconfig > "$obj/build.log" 2>&1 || ok=1
for opt in CONFIG_IOMMUFD=m CONFIG_ARM_SMMU_V3=y CONFIG_TEGRA241_CMDQV=y \
	   CONFIG_ARM_SMMU_V3_IOMMUFD=y CONFIG_IOMMUFD_DRIVER_CORE=y; do
	grep -qxF "$opt" "$obj/.config" 2>/dev/null ||
		{ echo "# $opt did not stick"; ok=1; }
done
tap $ok "IOMMUFD=m under built-in SMMUv3 and CMDQV keeps ARM_SMMU_V3_IOMMUFD=y and the built-in iommufd driver core"

# 2. drivers/iommu/ builds in it
ok=0
dmake drivers/iommu/ >> "$obj/build.log" 2>&1 || { ok=1; tail -n 20 "$obj/build.log" | sed 's/^/# /'; }
tap $ok "drivers/iommu/ builds with IOMMUFD=m"

# 3. The built-in objects need nothing that only iommufd.ko defines
builtin=$obj/drivers/iommu/built-in.a
ok=1
if [ -f "$builtin" ] && [ -f "$obj/drivers/iommu/iommufd/iommufd.o" ]; then
	"${CROSS}nm" "$builtin" 2>/dev/null | awk '$1 != "U" && NF == 3 { print $3 }' |
		sort -u > "$obj/builtin.def"
	"${CROSS}nm" "$builtin" 2>/dev/null | awk '$1 == "U" { print $2 }' | sort -u |
		comm -23 - "$obj/builtin.def" > "$obj/builtin.undef"
	"${CROSS}nm" "$obj/drivers/iommu/iommufd/iommufd.o" |
		awk 'NF == 3 && $2 ~ /[TDBR]/ { print $3 }' | sort -u > "$obj/module.def"
	comm -12 "$obj/builtin.undef" "$obj/module.def" > "$obj/bad"
	if [ -s "$obj/module.def" ] && ! [ -s "$obj/bad" ]; then
		ok=0
	else
		sed 's/^/# built-in code calls iommufd.ko: /' "$obj/bad"
	fi
fi
tap $ok "built-in drivers/iommu/ calls nothing that only iommufd.ko defines"

# 4. What the SMMUv3 and CMDQV drivers call is built in
ok=1
if [ -f "$obj/builtin.def" ]; then
	ok=0
	for sym in iommufd_viommu_alloc_mmap iommufd_viommu_destroy_mmap \
		   iommufd_viommu_report_event; do
		grep -qxF "$sym" "$obj/builtin.def" || { echo "# $sym is not built in"; ok=1; }
	done
fi
tap $ok "iommufd_viommu_{alloc,destroy}_mmap and iommufd_viommu_report_event are built in"
exit $failed
