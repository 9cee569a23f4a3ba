#!/bin/bash
# Build qemu-system-aarch64 from build/qemu (Debian's source + patches/qemu)
# into a cache directory keyed by the QEMU version, the patches and this
# script. A warm cache does not rebuild. Prints the binary's path.
set -euo pipefail
shopt -s nullglob
. "$(dirname "$0")/common.sh"

# The cover letter is text only: it is not part of the key.
key=$({
	echo "$QEMU_VERSION"
	for p in "$TOP"/patches/qemu/*.patch; do
		[ "${p##*/}" = 0000-cover-letter.patch ] || cat "$p"
	done
	cat "$0"
} | sha256sum | cut -c1-16)
out=$CACHE/qemu/$key
bin=$out/build/qemu-system-aarch64
if [ -x "$bin" ] && [ -f "$out/ok" ]; then
	echo "$bin"; exit 0
fi

"$TOP/scripts/tree.sh" qemu >&2
info "building QEMU $QEMU_VERSION + patches/qemu into $out (about 6 min on 2 cores)"
rm -rf "$out"
mkdir -p "$out/build"
cd "$out/build"
# Only what the test VMs use: aarch64 system emulation with FDT; no docs,
# no tools, no user-mode, no firmware blobs (UEFI comes from qemu-efi-aarch64).
"$BUILD/qemu/configure" --python=/usr/bin/python3 \
	--target-list=aarch64-softmmu --without-default-features \
	--enable-fdt=system --disable-docs --disable-tools --disable-user \
	--disable-install-blobs > "$out/configure.log" 2>&1 ||
	{ tail -n 30 "$out/configure.log" >&2; die "QEMU configure failed ($out/configure.log)"; }
ninja -j"$(nproc)" qemu-system-aarch64 > "$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log" >&2; die "QEMU build failed ($out/build.log)"; }
touch "$out/ok"
echo "$bin"
