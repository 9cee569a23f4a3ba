#!/bin/bash
# Static checks of the series, as a maintainer would run them:
#  1. checkpatch --strict on every patch of patches/linux (and QEMU's own
#     checkpatch on patches/qemu): no error, warning or check; instead of
#     checkpatch's blanket MAINTAINERS warning, every added file must be
#     covered by a MAINTAINERS section;
#  2. sparse (C=2) on every kernel C file the series touches: no warning
#     that the same file does not already have at base;
#  3. make coccicheck (MODE=report) on every touched kernel directory: no
#     report that base does not already have;
#  4. scripts/kernel-doc on every touched uAPI header: no warning;
#  5. no tracked file of the project names a package mirror
#     (scripts/check-no-mirror.sh).
# Base results come from a worktree of tag "base" (build/lint-base).
set -euo pipefail
shopt -s nullglob
. "$(dirname "$0")/common.sh"

# The kernel's python helpers (checkpatch's spdxcheck.py) need the modules
# make deps installs for Debian's python3, not another python3 on PATH.
export PATH=/usr/bin:$PATH
fail=0
bad() { echo "LINT FAIL: $*"; fail=1; }

# --- 5. no package mirror named (first: it needs no kernel tree) -----------
info "no package mirror named in the repository"
"$TOP/scripts/check-no-mirror.sh" || bad "a tracked file names a package mirror"
"$TOP/scripts/tree.sh" linux
"$TOP/scripts/kernel-build.sh" >/dev/null

# --- 1. checkpatch ---------------------------------------------------------
# checkpatch warns "does MAINTAINERS need updating?" for every added file,
# covered or not. Check the coverage for real instead: every file the series
# adds must fall in a MAINTAINERS section other than THE REST.
info "MAINTAINERS coverage of added files"
while read -r f; do
	sect=$(cd "$LINUX" && perl scripts/get_maintainer.pl --nogit --nogit-fallback \
		--no-rolestats --sections -f "$f" 2>/dev/null | grep -v '^\(THE REST\|[A-Z]:\|$\)' | head -n 1)
	[ -n "$sect" ] || bad "MAINTAINERS: no section covers $f"
done < <(git -C "$LINUX" diff --name-only --diff-filter=A base..HEAD)
info "checkpatch --strict"
for p in "$TOP"/patches/linux/*.patch; do
	case $p in */0000-cover-letter.patch) continue ;; esac
	# --quiet prints nothing at all for a clean patch.
	out=$(cd "$LINUX" && perl scripts/checkpatch.pl --strict --quiet --no-summary \
		--ignore FILE_PATH_CHANGES "$p" 2>&1) || true
	[ -z "$out" ] || { echo "$out"; bad "checkpatch: $(basename "$p")"; }
done
if [ -d "$BUILD/qemu" ]; then
	for p in "$TOP"/patches/qemu/*.patch; do
		case $p in */0000-cover-letter.patch) continue ;; esac
		(cd "$BUILD/qemu" && perl scripts/checkpatch.pl --patch --no-summary -q "$p") ||
			bad "qemu checkpatch: $(basename "$p")"
	done
fi

cd "$LINUX"
mapfile -t cfiles < <(git diff --name-only --diff-filter=AM base..HEAD -- '*.c' |
	grep -v '^tools/\|^scripts/\|^Documentation/' || true)
mapfile -t dirs < <(printf '%s\n' "${cfiles[@]}" | xargs -r -n1 dirname | sort -u)
mapfile -t uapi < <(git diff --name-only --diff-filter=AM base..HEAD -- 'include/uapi/*.h')

# Normalise "file:line:col: msg" so that moved lines are not "new", and
# make paths relative to the tree they were checked in.
norm() {
	sed -E "s|^($LINUX\|$BUILD/lint-base)/||; s/:[0-9]+(:[0-9]+)?:/:/; s/ line [0-9]+/ line N/" | sort -u
}
# Only reports about the files the series touches (C=2 also checks whatever
# else the same make happens to rebuild).
touched() { grep -F -f <(printf '%s:\n' "${cfiles[@]}") || true; }

base_tree() {
	local wt=$BUILD/lint-base
	linux_worktree "$wt"
	git -C "$wt" checkout -q --detach base
	mkdir -p "$KOBJ-lint-base"
	cp "$KOBJ/.config" "$KOBJ-lint-base/.config"
	make -s -C "$wt" O="$KOBJ-lint-base" ARCH=arm64 CROSS_COMPILE=$CROSS \
		CC="ccache ${CROSS}gcc" -j"$(nproc)" olddefconfig prepare >/dev/null
	echo "$wt"
}
kmake_in() { # TREE OBJ ARGS...
	local t=$1 o=$2; shift 2
	make -s -C "$t" O="$o" ARCH=arm64 CROSS_COMPILE=$CROSS CC="ccache ${CROSS}gcc" \
		-j"$(nproc)" "$@"
}

# --- 2. sparse -----------------------------------------------------------------
if [ ${#cfiles[@]} -gt 0 ]; then
	info "sparse on ${#cfiles[@]} touched file(s)"
	bt=$(base_tree)
	objs=()
	for f in "${cfiles[@]}"; do objs+=("${f%.c}.o"); done
	kmake_in "$LINUX" "$KOBJ" C=2 "${objs[@]}" 2>&1 | grep -E 'warning|error' | norm | touched > "$BUILD/sparse.head"
	bobjs=()
	for f in "${cfiles[@]}"; do [ -f "$bt/$f" ] && bobjs+=("${f%.c}.o"); done
	: > "$BUILD/sparse.base"
	[ ${#bobjs[@]} = 0 ] ||
		kmake_in "$bt" "$KOBJ-lint-base" C=2 "${bobjs[@]}" 2>&1 | grep -E 'warning|error' | norm | touched > "$BUILD/sparse.base"
	new=$(comm -23 "$BUILD/sparse.head" "$BUILD/sparse.base")
	[ -z "$new" ] || { echo "$new"; bad "sparse: new warnings"; }
else
	info "sparse: the series touches no kernel C file"
fi

# --- 3. coccicheck ---------------------------------------------------------------
if [ ${#dirs[@]} -gt 0 ]; then
	bt=${bt:-$(base_tree)}
	# coccicheck M=DIR in TREE with objects OBJ: the reports, normalised.
	# A coccicheck that fails to run is a lint failure, never "clean".
	cocci() {
		local out=$BUILD/cocci.run
		if ! kmake_in "$1" "$2" coccicheck MODE=report M="$3" > "$out" 2>&1; then
			tail -n 5 "$out" >&2
			return 1
		fi
		{ grep -E '^[^ ]+:[0-9]+' "$out" || true; } | norm
	}
	for d in "${dirs[@]}"; do
		info "coccicheck M=$d"
		cocci "$LINUX" "$KOBJ" "$d" > "$BUILD/cocci.head" ||
			{ bad "coccicheck did not run on $d"; continue; }
		: > "$BUILD/cocci.base"
		if [ -d "$bt/$d" ]; then
			cocci "$bt" "$KOBJ-lint-base" "$d" > "$BUILD/cocci.base" ||
				{ bad "coccicheck did not run on $d at base"; continue; }
		fi
		new=$(comm -23 "$BUILD/cocci.head" "$BUILD/cocci.base")
		[ -z "$new" ] || { echo "$new"; bad "coccicheck: new reports in $d"; }
	done
else
	info "coccicheck: the series touches no kernel directory"
fi

# --- 4. kernel-doc -----------------------------------------------------------------
for h in "${uapi[@]}"; do
	info "kernel-doc $h"
	out=$(perl scripts/kernel-doc -none -Wall "$h" 2>&1)
	[ -z "$out" ] || { echo "$out"; bad "kernel-doc: $h"; }
done
[ ${#uapi[@]} -gt 0 ] || info "kernel-doc: the series touches no uAPI header"

[ $fail = 0 ] && echo "lint: clean"
exit $fail
