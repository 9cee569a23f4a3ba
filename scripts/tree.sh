#!/bin/bash
# Create or refresh a generated source tree build/NAME (NAME = linux|qemu):
# the pinned Debian source as commit "base" (tagged), and patches/NAME/
# applied on branch "series" with git am.
#
#   scripts/tree.sh NAME           no-op when the tree is current
#   FORCE=1 scripts/tree.sh NAME   discard unexported work in build/NAME
set -euo pipefail
shopt -s nullglob
. "$(dirname "$0")/common.sh"

NAME=${1:?usage: tree.sh linux|qemu}
TREE=$BUILD/$NAME
PATCHDIR=$TOP/patches/$NAME
COVER=$PATCHDIR/0000-cover-letter.patch

# Fixed identities and dates: commit ids (and so re-exported patches) do
# not depend on when or where the tree was made.
export GIT_COMMITTER_NAME="viommu project" GIT_COMMITTER_EMAIL="dev@viommu.invalid"
export GIT_AUTHOR_NAME="$GIT_COMMITTER_NAME" GIT_AUTHOR_EMAIL="$GIT_COMMITTER_EMAIL"

# --- sources -----------------------------------------------------------
# Each fetch_* prints the version it got; each unpack_* fills $TREE.

fetch_linux() {
	local ver=$LINUX_VERSION tar tmp
	tar=$CACHE/dl/$LINUX_PKG-$ver.tar.xz
	if [ -f "$tar" ] && echo "$LINUX_SHA256  $tar" | sha256sum -c --status; then
		echo "$ver"; return
	fi
	mkdir -p "$CACHE/dl"
	tmp=$(mktemp -d "$CACHE/dl/tmp.XXXXXX")
	if ! (cd "$tmp" && apt-get download "$LINUX_PKG=$ver" >&2); then
		ver=$(apt-cache madison "$LINUX_PKG" | awk '{print $3}' | sort -V | tail -n 1)
		[ -n "$ver" ] || die "$LINUX_PKG is not in any apt source (run make deps)"
		warn_loud "$LINUX_PKG=$LINUX_VERSION (pinned in BASE) is gone from the archive;" \
			"falling back to the newest 6.12, $ver, whose sha256 is NOT pinned." \
			"Verify the series on it and update BASE."
		tar=$CACHE/dl/$LINUX_PKG-$ver.tar.xz
		if [ -f "$tar" ]; then
			rm -rf "$tmp"
			echo "$ver"; return
		fi
		(cd "$tmp" && apt-get download "$LINUX_PKG=$ver" >&2)
	fi
	dpkg-deb --fsys-tarfile "$tmp"/*.deb |
		tar -xO "./usr/src/$LINUX_PKG.tar.xz" > "$tar.part"
	rm -rf "$tmp"
	if [ "$ver" = "$LINUX_VERSION" ] &&
	   ! echo "$LINUX_SHA256  $tar.part" | sha256sum -c --status; then
		rm -f "$tar.part"
		die "the sha256 of the $LINUX_PKG $ver tarball does not match BASE"
	fi
	mv "$tar.part" "$tar"
	echo "$ver"
}

unpack_linux() {
	tar -xJf "$CACHE/dl/$LINUX_PKG-$1.tar.xz" -C "$TREE" --strip-components=1
}

qemu_dir() { echo "$CACHE/dl/qemu-${QEMU_VERSION#*:}"; }

fetch_qemu() {
	local dir dsc
	dir=$(qemu_dir)
	dsc=$dir/qemu_${QEMU_VERSION#*:}.dsc
	if ! [ -f "$dsc" ] || ! echo "$QEMU_DSC_SHA256  $dsc" | sha256sum -c --status; then
		rm -rf "$dir"; mkdir -p "$dir"
		(cd "$dir" && apt-get source --download-only "qemu=$QEMU_VERSION" >&2) ||
			die "qemu=$QEMU_VERSION source is not reachable (run make deps; it needs the deb-src entry of deps/apt.sources)"
		echo "$QEMU_DSC_SHA256  $dsc" | sha256sum -c --status ||
			die "the sha256 of $(basename "$dsc") does not match BASE"
	fi
	echo "$QEMU_VERSION"
}

unpack_qemu() {
	# dpkg-source checks every tarball against the checksums in the .dsc
	# (whose own sha256 BASE pins, as there is no Debian keyring here to
	# check its signature) and applies Debian's own patches: Debian's QEMU
	# is the base.
	rmdir "$TREE"
	dpkg-source -x "$(qemu_dir)/qemu_${QEMU_VERSION#*:}.dsc" "$TREE" \
		> "$BUILD/qemu-unpack.log" 2>&1 ||
		{ cat "$BUILD/qemu-unpack.log" >&2; die "dpkg-source -x failed"; }
}

# --- the git side --------------------------------------------------------

patches() { local p; for p in "$PATCHDIR"/*.patch; do cat "$p"; done; }
series_hash() { { echo "$1"; patches; } | sha256sum | cut -d' ' -f1; }
tree_ids() { git -C "$TREE" log -p --no-merges base..HEAD | git patch-id --stable | cut -d' ' -f1 | sort; }
file_ids() { patches | git patch-id --stable | cut -d' ' -f1 | sort; }

make_base() {
	info "unpacking $NAME $1 into build/$NAME"
	rm -rf "$TREE" "$BUILD/obj-$NAME"
	mkdir -p "$TREE"
	"unpack_$NAME" "$1"
	cd "$TREE"
	git init -q -b series
	git config user.name "$GIT_AUTHOR_NAME"
	git config user.email "$GIT_AUTHOR_EMAIL"
	git config core.abbrev 12
	info "committing the base tree"
	git add -A -f
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git commit -q -m "Debian $NAME $1"
	git tag base
	git config viommu.base-version "$1"
}

# The cover letter's subject and blurb live as the branch description while
# the series is in the tree; export writes them back.
cover_description() {
	awk '
		/^Subject: / { sub(/^Subject: (\[[^]]*\] )?/, ""); subj = $0; insubj = 1; next }
		insubj && /^[ \t]/ { subj = subj $0; next }
		insubj { insubj = 0; inbody = 1; print subj; print ""; next }
		inbody && /^[^ ].* \([0-9]+\):$/ { exit }
		inbody && /^-- ?$/ { exit }
		inbody { print }
	' "$COVER" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

apply_series() {
	local p out
	cd "$TREE"
	git checkout -q -f -B series base
	git clean -q -fdx
	for p in "$PATCHDIR"/*.patch; do
		[ "$p" = "$COVER" ] && continue
		if ! out=$(git am -q --committer-date-is-author-date "$p" 2>&1); then
			git am --abort >/dev/null 2>&1 || true
			echo "error: patches/$NAME/$(basename "$p") does not apply:" >&2
			echo "$out" >&2
			exit 1
		fi
	done
	if [ -f "$COVER" ]; then
		git config branch.series.description "$(cover_description)"
	else
		git config --unset branch.series.description 2>/dev/null || true
	fi
	git rev-parse HEAD > .git/viommu-applied-head
}

ver=$("fetch_$NAME")
want=$(series_hash "$ver")

if [ -d "$TREE/.git" ] && git -C "$TREE" rev-parse -q --verify refs/tags/base >/dev/null &&
   [ "$(git -C "$TREE" config viommu.base-version || true)" = "$ver" ]; then
	[ "$(cat "$TREE/.git/viommu-series-hash" 2>/dev/null || true)" = "$want" ] && exit 0
	if [ "${FORCE:-0}" != 1 ]; then
		[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
			die "build/$NAME has uncommitted edits: commit them and 'make export', or FORCE=1 to discard them"
		if [ "$(git -C "$TREE" rev-parse HEAD)" != "$(cat "$TREE/.git/viommu-applied-head" 2>/dev/null)" ] &&
		   [ "$(tree_ids)" != "$(file_ids)" ]; then
			die "build/$NAME has commits that are not in patches/$NAME: 'make export' first, or FORCE=1 to discard them"
		fi
	fi
else
	make_base "$ver"
fi
info "applying patches/$NAME on base"
apply_series
echo "$want" > "$TREE/.git/viommu-series-hash"
info "build/$NAME: $(git -C "$TREE" rev-list --count base..HEAD) patch(es) on $NAME $ver"
