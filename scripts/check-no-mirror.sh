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
# The planted lines and fake apt configurations below name made-up hosts,
# but are built at run time: no tracked line of this file is an apt source
# line or an archive URL itself.
S=http A=debian
u() { echo "$S://$1/$A${2:-}"; }	# HOST [SUFFIX]: a made-up archive URL
echo "1..12"
t tree-is-clean scan "$TOP"
t planted-uris-line not plant "URIs: $(u mirror.example.net)"
t planted-deb-line not plant "deb $(u ftp.example.org) bookworm main"
t planted-deb-line-options not plant "deb [arch=arm64 signed-by=/k.gpg] $S://m.example/x trixie main"
t planted-deb-src-line not plant "deb-src $(u mirror.example.net) sid main"
t planted-url-in-script not plant "wget $(u mirror.example.net /pool/main/q/qemu/x.deb)"
t placeholder-allowed plant 'URIs: @DEBIAN_MIRROR@'

# debian_mirror(): the machine's configuration, in both formats.
etc=$tmp/etc
mkdir -p "$etc/sources.list.d"
mirror() { VIOMMU_APT_ETC=$etc VIOMMU_DEBIAN_SUITE=bookworm bash -c \
	". '$TOP/scripts/common.sh'; debian_mirror"; }
expect() { [ "$(mirror 2>&1)" = "$1" ]; }
stanza() { printf 'Types: %s\nURIs: %s\nSuites: %s\nComponents: main\n' "$@"; }
{
	stanza deb "$(u local.example -security)" bookworm-security
	echo
	stanza "deb deb-src" "$(u proxy.example:3142 /) $(u other.example)" \
		"bookworm bookworm-updates"
} > "$etc/sources.list.d/debian.sources"
t deb822-stanza-of-the-release expect "$(u proxy.example:3142)"
stanza deb @DEBIAN_MIRROR@ bookworm > "$etc/sources.list.d/viommu.sources"
t own-sources-file-ignored expect "$(u proxy.example:3142)"
rm "$etc/sources.list.d/debian.sources"
{
	echo "# deb $(u commented.example) bookworm main"
	echo "deb [signed-by=/k.gpg] $(u oneline.example) bookworm main contrib"
} > "$etc/sources.list"
t one-line-sources-list expect "$(u oneline.example)"
{ stanza deb "$(u disabled.example)" bookworm; echo "Enabled: no"; } \
	> "$etc/sources.list.d/off.sources"
t disabled-stanza-ignored expect "$(u oneline.example)"
rm "$etc/sources.list"
t no-entry-is-an-error not mirror
exit $failed
