#!/bin/bash
# Write build/NAME's branch (base..series) back to patches/NAME/ as a
# git format-patch series with a cover letter. Deterministic: exporting an
# unchanged tree gives byte-identical files.
set -euo pipefail
shopt -s nullglob
. "$(dirname "$0")/common.sh"

NAME=${1:?usage: export.sh linux|qemu}
TREE=$BUILD/$NAME
OUT=$TOP/patches/$NAME
[ -d "$TREE/.git" ] || die "build/$NAME does not exist; nothing to export"
cd "$TREE"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "build/$NAME has uncommitted edits; commit them first"
# Debian's linux-source appends "/*" to the top-level .gitignore, which
# hides every new file from "git status". The base commit tracks the whole
# tarball and objects are built out of tree, so an untracked file here is
# a new source file that a commit forgot (git add -f), or litter.
hidden=$(git ls-files --others --ignored --exclude-standard | head -n 20)
[ -z "$hidden" ] ||
	die "build/$NAME has untracked files that .gitignore hides; 'git add -f' them into a commit, or delete them:
$hidden"
[ "$(git rev-parse --abbrev-ref HEAD)" = series ] ||
	die "build/$NAME is not on branch 'series' (finish the rebase first)"

if [ -z "$(git config branch.series.description || true)" ]; then
	git config branch.series.description \
		"$(printf '%s\n\n%s' "$NAME: viommu series" "(describe the series: git branch --edit-description)")"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The cover letter takes its Date from the newest commit, not the clock.
last=$(git log -1 --format=%aD series 2>/dev/null || echo "Sat, 1 Jan 2000 00:00:00 +0000")
git format-patch -q --zero-commit --no-signature --cover-letter \
	--cover-from-description=subject --subject-prefix=PATCH \
	-o "$tmp" base..series
sed -i "0,/^Date: .*/s//Date: $last/" "$tmp/0000-cover-letter.patch"

mkdir -p "$OUT"
rm -f "$OUT"/*.patch
cp "$tmp"/*.patch "$OUT"/
echo "patches/$NAME: $(ls "$OUT" | wc -l) file(s) written"
# The tree now matches the files: a rebuild from them is a no-op.
ver=$(git config viommu.base-version)
{ echo "$ver"; for p in "$OUT"/*.patch; do cat "$p"; done; } | sha256sum | cut -d' ' -f1 > .git/viommu-series-hash
git rev-parse HEAD > .git/viommu-applied-head
