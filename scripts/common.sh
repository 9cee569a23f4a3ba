# Shared settings for the scripts; sourced, not run.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../BASE
. "$TOP/BASE"

# Caches live outside the repository, keyed by what built them.
CACHE=${VIOMMU_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/viommu}
BUILD=$TOP/build
LINUX=$BUILD/linux		# the series tree (git, tag "base")
KOBJ=$BUILD/kobj		# out-of-tree kernel objects
CROSS=aarch64-linux-gnu-

die() { echo "error: $*" >&2; exit 1; }
info() { echo ">>> $*" >&2; }
warn_loud() {
	{
		echo "**********************************************************"
		echo "WARNING: $*"
		echo "**********************************************************"
	} >&2
}

# The kernel make invocation every script shares.
kmake() {
	make -s -C "$LINUX" O="$KOBJ" ARCH=arm64 CROSS_COMPILE=$CROSS \
		CC="ccache ${CROSS}gcc" -j"$(nproc)" "$@"
}
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_BASEDIR=$TOP
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

# The QEMU binary, built if needed. Callers serialise on a lock, so two
# builds never share (and wipe) one cache directory. VIOMMU_QEMU=PATH
# uses that binary instead (a development build of build/qemu).
qemu_binary() {
	if [ -n "${VIOMMU_QEMU:-}" ]; then
		[ -x "$VIOMMU_QEMU" ] || die "VIOMMU_QEMU=$VIOMMU_QEMU is not an executable"
		echo "$VIOMMU_QEMU"
		return
	fi
	mkdir -p "$CACHE"
	flock "$CACHE/qemu-build.lock" "$TOP/scripts/qemu-build.sh"
}
