#!/bin/bash
# Install what the project needs through apt: deps/apt.sources (bookworm-
# backports, and sid's deb-src for the QEMU source) on the Debian mirror of
# the machine's own apt configuration, deps/packages and
# deps/packages-backports. Idempotent: a no-op when all is installed and the
# sources file matches the machine's mirror.
set -euo pipefail
. "$(dirname "$0")/common.sh"

list() { grep -v '^[[:space:]]*\(#\|$\)' "$1"; }
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

src=/etc/apt/sources.list.d/viommu.sources
mirror=$(debian_mirror)
want=$(sed "s|@DEBIAN_MIRROR@|$mirror|g" "$TOP/deps/apt.sources")
missing=$(list "$TOP/deps/packages"; list "$TOP/deps/packages-backports")
missing=$(for p in $missing; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
done)
# QEMU's source comes from the deb-src entry, so the sources file must be
# in place even when every package is.
if [ "$want" = "$(cat "$src" 2>/dev/null)" ] && [ -z "$missing" ]; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ "$want" != "$(cat "$src" 2>/dev/null)" ]; then
	info "installing $src (mirror $mirror, from the machine's apt configuration)"
	printf '%s\n' "$want" | $sudo tee "$src" >/dev/null
	$sudo chmod 644 "$src"
fi
info "apt-get update"
$sudo apt-get update -qq
info "installing: $(echo $missing)"
# shellcheck disable=SC2046
$sudo apt-get install -y -qq --no-install-recommends $(list "$TOP/deps/packages")
# shellcheck disable=SC2046
$sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports \
	$(list "$TOP/deps/packages-backports")
meson_ver=$(meson --version)
[ "$(printf '%s\n1.5.0\n' "$meson_ver" | sort -V | head -n 1)" = 1.5.0 ] ||
	die "meson $meson_ver is too old for QEMU 10.2 (needs >= 1.5 from backports)"
