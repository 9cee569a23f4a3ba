#!/bin/bash
# Build/refresh build/linux: Debian's pinned linux-source tree as commit
# "base", with patches/linux/*.patch applied on branch "series" by git am.
#
#   scripts/linux-tree.sh          create or refresh (no-op when current)
#   FORCE=1 scripts/linux-tree.sh  discard unexported commits in build/linux
set -euo pipefail
. "$(dirname "$0")/common.sh"

PATCHDIR=$TOP/patches/linux
# Deterministic identities and dates, so that commit ids (and with them
# re-exported patches) do not depend on when or where the tree was made.
export GIT_COMMITTER_NAME="viommu build" GIT_COMMITTER_EMAIL="build@viommu.invalid"
export GIT_AUTHOR_NAME="$GIT_COMMITTER_NAME" GIT_AUTHOR_EMAIL="$GIT_COMMITTER_EMAIL"

# --- fetch the pinned tarball (or the newest 6.12, loudly) -----------------
fetch_tarball() {
	local ver=$LINUX_VERSION tar tmp
	tar=$CACHE/dl/$LINUX_PKG-$ver.tar.xz
	if [ -f "$tar" ] && echo "$LINUX_SHA256  $tar" | sha256sum -c --status; then
		echo "$tar"; return
	fi
	mkdir -p "$CACHE/dl"
	tmp=$(mktemp -d "$CACHE/dl/tmp.XXXXXX")
	if ! (cd "$tmp" && apt-get download "$LINUX_PKG=$ver" >&2); then
		ver=$(apt-cache madison "$LINUX_PKG" | awk '{print $3}' |
		      sort -V | tail -n 1)
		[ -n "$ver" ] || die "$LINUX_PKG is not in any apt source (run make deps)"
		warn_loud "$LINUX_PKG=$LINUX_VERSION (BASE) is gone from the archive;" \
			"falling back to $ver. Its sha256 is NOT the pinned one." \
			"Update BASE once the series is verified on it."
		(cd "$tmp" && apt-get download "$LINUX_PKG=$ver" >&2)
		tar=$CACHE/dl/$LINUX_PKG-$ver.tar.xz
	fi
	dpkg-deb --fsys-tarfile "$tmp"/*.deb |
		tar -xO "./usr/src/$LINUX_PKG.tar.xz" > "$tar.part"
	rm -rf "$tmp"
	if [ "$ver" = "$LINUX_VERSION" ]; then
		echo "$LINUX_SHA256  $tar.part" | sha256sum -c --status ||
			{ rm -f "$tar.part"; die "sha256 of $LINUX_PKG $ver tarball does not match BASE"; }
	fi
	mv "$tar.part" "$tar"
	echo "$tar"
}

shopt -s nullglob
patches() { local p; for p in "$PATCHDIR"/*.patch; do cat "$p"; done; }
series_hash() { { echo "$1"; patches; } | sha256sum | cut -d' ' -f1; }

# Patch ids of the commits on top of base, and of the files in patches/.
tree_ids() { git -C "$LINUX" log -p --no-merges base..HEAD | git patch-id --stable | cut -d' ' -f1 | sort; }
file_ids() { patches | git patch-id --stable | cut -d' ' -f1 | sort; }

make_base() {
	local tar=$1 ver=$2
	info "extracting $(basename "$tar") into build/linux"
	rm -rf "$LINUX" "$KOBJ"
	mkdir -p "$LINUX"
	tar -xJf "$tar" -C "$LINUX" --strip-components=1
	cd "$LINUX"
	git init -q -b series
	git config user.name "$GIT_AUTHOR_NAME"
	git config user.email "$GIT_AUTHOR_EMAIL"
	git config core.abbrev 12
	info "committing the base tree (takes a minute)"
	git add -A -f
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git commit -q -m "Debian $LINUX_PKG $ver"
	git tag base
	git config viommu.base-version "$ver"
}

apply_series() {
	local p desc cover=$PATCHDIR/0000-cover-letter.patch
	cd "$LINUX"
	git checkout -q -f -B series base
	git clean -q -fdx
	for p in "$PATCHDIR"/*.patch; do
		[ "$p" = "$cover" ] && continue
		if ! out=$(git am -q --committer-date-is-author-date "$p" 2>&1); then
			git am --abort >/dev/null 2>&1 || true
			echo "error: patches/linux/$(basename "$p") does not apply:" >&2
			echo "$out" >&2
			exit 1
		fi
	done
	# The cover letter's subject and blurb become the branch description,
	# which "make export" writes back (git format-patch
	# --cover-from-description=subject).
	if [ -f "$cover" ]; then
		desc=$(awk '
			/^Subject: / { sub(/^Subject: (\[[^]]*\] )?/, ""); subj = $0; insubj = 1; next }
			insubj && /^ / { sub(/^ /, " "); subj = subj $0; next }
			insubj { insubj = 0; inbody = 1; print subj; next }
			inbody && /^---?/ { exit }
			inbody && /^[^ ]+ \([0-9]+\):$/ { exit }
			inbody { print }
		' "$cover")
		git config branch.series.description "$desc"
	else
		git config --unset branch.series.description 2>/dev/null || true
	fi
	git rev-parse HEAD > .git/viommu-applied-head
}

tar=$(fetch_tarball)
ver=$(basename "$tar" .tar.xz); ver=${ver#"$LINUX_PKG"-}
want=$(series_hash "$ver")

if [ -d "$LINUX/.git" ] && git -C "$LINUX" rev-parse -q --verify refs/tags/base >/dev/null &&
   [ "$(git -C "$LINUX" config viommu.base-version || true)" = "$ver" ]; then
	have=$(cat "$LINUX/.git/viommu-series-hash" 2>/dev/null || true)
	[ "$have" = "$want" ] && exit 0
	if [ "${FORCE:-0}" != 1 ]; then
		if [ -n "$(git -C "$LINUX" status --porcelain --untracked-files=no)" ]; then
			die "build/linux has uncommitted edits; commit them and 'make export', or FORCE=1 to discard"
		fi
		if [ "$(git -C "$LINUX" rev-parse HEAD)" != "$(cat "$LINUX/.git/viommu-applied-head" 2>/dev/null)" ] &&
		   [ "$(tree_ids)" != "$(file_ids)" ]; then
			die "build/linux has commits not exported to patches/linux; 'make export' first, or FORCE=1 to discard"
		fi
	fi
else
	make_base "$tar" "$ver"
fi
info "applying patches/linux on base"
apply_series
echo "$want" > "$LINUX/.git/viommu-series-hash"
info "build/linux: $(git -C "$LINUX" rev-list --count base..HEAD) patch(es) on $LINUX_PKG $ver"
