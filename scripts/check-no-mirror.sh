#!/bin/bash
# No package mirror is named in the repository: apt sources the project adds
# take the Debian archive's URI from the machine's own apt configuration at
# run time (debian_mirror in common.sh). Fails on any tracked file with an
# apt source line ("deb URI ...", "URIs: URI") or a URL of a Debian archive.
#   scripts/check-no-mirror.sh [DIR]   check the tracked files of DIR (a git
#                                      work tree; default: the project)
#   scripts/check-no-mirror.sh --self-test
#                                      TAP: the check fails on planted lines,
#                                      debian_mirror() reads the machine's
#                                      configuration and refuses without one
set -uo pipefail
. "$(dirname "$0")/common.sh"

# Lines that name where apt fetches from. The template's placeholder
# (@DEBIAN_MIRROR@) is the one URI allowed.
pattern='^[[:space:]]*(deb|deb-src)[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z+]+:|^[[:space:]]*URIs:[[:space:]]*[^@[:space:]]|[a-z]+://[^[:space:]"'\'']*/debian(-security|-ports|-backports)?(/|[[:space:]"'\'']|$)|[a-z]+://[^/[:space:]]*debian\.(org|net)'

scan() { # DIR: print offending lines, fail if any
	git -C "$1" ls-files -z |
		grep -zv '^scripts/check-no-mirror\.sh$' |
		(cd "$1" && xargs -0 -r grep -nIE "$pattern" --) && return 1
	return 0
}

if [ "${1:-}" != --self-test ]; then
	scan "${1:-$TOP}" || { echo "error: the lines above name a package mirror; write @DEBIAN_MIRROR@ (deps/apt.sources) or take it from debian_mirror()" >&2; exit 1; }
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
t() { # NAME COMMAND...: a TAP line for COMMAND's status
	local name=$1; shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then echo "ok $n $name"
	else echo "not ok $n $name"; sed 's/^/# /' "$tmp/out"; failed=1; fi
}
not() { ! "$@"; }

# A copy of the tracked tree, clean, then with one planted line per way a
# mirror can be written down.
repo=$tmp/repo
git clone -q "$TOP" "$repo" 2>/dev/null || { mkdir -p "$repo"; git -C "$repo" init -q; }
cp "$TOP/deps/apt.sources" "$repo/deps/apt.sources" 2>/dev/null
git -C "$repo" add -A >/dev/null 2>&1
plant() { # LINE: scan a copy with LINE added to deps/apt.sources
	git -C "$repo" checkout -q -- deps/apt.sources 2>/dev/null
	cp "$TOP/deps/apt.sources" "$repo/deps/apt.sources"
	printf '%s\n' "$1" >> "$repo/deps/apt.sources"
	git -C "$repo" add deps/apt.sources
	scan "$repo"
}
echo "1..12"
t tree-is-clean scan "$TOP"
t planted-uris-line not plant 'URIs: http://mirror.example.net/debian'
t planted-deb-line not plant 'deb http://ftp.example.org/debian bookworm main'
t planted-deb-line-options not plant 'deb [arch=arm64 signed-by=/k.gpg] https://m.example/x trixie main'
t planted-deb-src-line not plant 'deb-src http://mirror.example.net/debian sid main'
t planted-url-in-script not plant 'wget https://mirror.example.net/debian/pool/main/q/qemu/x.deb'
t placeholder-allowed plant 'URIs: @DEBIAN_MIRROR@'

# debian_mirror(): the machine's configuration, in both formats.
etc=$tmp/etc
mkdir -p "$etc/sources.list.d"
mirror() { VIOMMU_APT_ETC=$etc VIOMMU_DEBIAN_SUITE=bookworm bash -c \
	". '$TOP/scripts/common.sh'; debian_mirror"; }
expect() { [ "$(mirror 2>&1)" = "$1" ]; }
cat > "$etc/sources.list.d/debian.sources" <<'S'
Types: deb
URIs: http://local.example/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
URIs: http://proxy.example:3142/debian/ http://other.example/debian
Suites: bookworm bookworm-updates
Components: main
S
t deb822-stanza-of-the-release expect http://proxy.example:3142/debian
printf 'Types: deb\nURIs: @DEBIAN_MIRROR@\nSuites: bookworm\n' > "$etc/sources.list.d/viommu.sources"
t own-sources-file-ignored expect http://proxy.example:3142/debian
rm "$etc/sources.list.d/debian.sources"
printf '# deb http://commented.example/debian bookworm main\ndeb [signed-by=/k.gpg] http://oneline.example/debian bookworm main contrib\n' > "$etc/sources.list"
t one-line-sources-list expect http://oneline.example/debian
printf 'Types: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\nEnabled: no\n' > "$etc/sources.list.d/off.sources"
t disabled-stanza-ignored expect http://oneline.example/debian
rm "$etc/sources.list"
t no-entry-is-an-error not mirror
exit $failed
