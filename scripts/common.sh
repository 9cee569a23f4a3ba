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

# The Debian archive's URI as the machine's own apt configuration names it
# (a mirror, a proxy, a local copy: whatever the machine uses), from the
# first enabled "deb" entry for this release's own suite (bookworm, not
# bookworm-security or -updates, which may be served from elsewhere), in
# deb822 .sources files or one-line sources.list entries. The project never
# names a host itself: no such entry is an error. VIOMMU_APT_ETC (default
# /etc/apt) and VIOMMU_DEBIAN_SUITE (default: VERSION_CODENAME of
# /etc/os-release) exist for the harness' self-test.
debian_mirror() {
	local etc=${VIOMMU_APT_ETC:-/etc/apt} suite=${VIOMMU_DEBIAN_SUITE:-} uri=
	[ -n "$suite" ] || suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$suite" ] || die "cannot tell this machine's Debian release (/etc/os-release)"
	local f files=()
	for f in "$etc"/sources.list.d/*.sources "$etc"/sources.list \
		"$etc"/sources.list.d/*.list; do
		[ -f "$f" ] && files+=("$f")
	done
	[ ${#files[@]} = 0 ] ||
		uri=$(awk -v suite="$suite" -f "$TOP/scripts/apt-mirror.awk" "${files[@]}")
	[ -n "$uri" ] || die "no Debian archive entry (a \"deb\" line or .sources stanza for suite '$suite') in $etc/sources.list or $etc/sources.list.d; add your mirror there, the project does not name one"
	echo "${uri%/}"
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

# A worktree of build/linux at tag "base" in DIR (build/lint-base,
# build/bisect). One left from an earlier build/linux (a new base re-creates
# the tree) is no worktree of this one: it is made again.
linux_worktree() {
	local wt=$1
	if [ -d "$wt" ] && ! git -C "$LINUX" worktree list --porcelain |
			grep -qxF "worktree $wt"; then
		rm -rf "$wt"
		git -C "$LINUX" worktree prune
	fi
	[ -d "$wt" ] || git -C "$LINUX" worktree add -q --detach "$wt" base
}
