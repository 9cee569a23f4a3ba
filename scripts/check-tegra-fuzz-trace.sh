#!/bin/bash
# Check the QEMU trace of `fuzz-viommu tegra` (guest/fuzz-viommu/gen-tegra.c,
# topology dual, a Tegra241 CMDQV on each SMMU): whatever the fuzzer's
# hostile guest wrote into its VCMDQs, every command a guest-owned VINTF
# passed on to an SMMU carried that guest's VMID and the physical
# StreamIDs of that guest's own devices, and no queue of the host erred.
#
# The console names each vIOMMU of type TEGRA241_CMDQV the fuzzer made:
#
#   # tegra viommu TAG iommu I psids 0x8,0x28     (or "psids -": none)
#
# with the physical StreamIDs of every device that had a virtual ID on it
# (by IOMMU_VIOMMU_SET_DEV_ID or IOMMU_VDEVICE_ALLOC) at any time, and
# "# tegra iommu I: ... psids 0x8 0x28" the devices behind each SMMU. In
# the trace, a VINTF's life runs from its enable without HYP_OWN
# (tegra241_cmdqv_vintf_config en=1 hyp_own=0, with its VMID) to its
# disable; the fuzzer marks it as TAG's with a TLBI_NH_VA of address
# 0x7e9a00000000 + TAG * 4096 from one of its VCMDQs, and TAG's vIOMMU
# also sends a TLBI_NH_VA of 0x7e9b00000000 + TAG * 4096 through
# IOMMU_HWPT_INVALIDATE (the host's queues), which shows the VMID the
# kernel gives that vIOMMU's trapped commands. Checks:
#
#   link     the console names vIOMMUs, the trace has guest VINTFs that
#            passed commands on, markers tie VINTFs to vIOMMUs, each tag
#            to one VINTF life on the SMMU of its IOMMU
#   allow    a guest VINTF passed on only TLBI_NH_ASID, TLBI_NH_VA,
#            ATC_INV and CMD_SYNC
#   vmid     each of its commands carried its VINTF's VMID, never 0, and
#            two guest VINTFs of an SMMU never live with the same VMID
#   s2vmid   a marked VINTF's VMID is its vIOMMU's (the trapped marker's)
#   pairs    every SID_MATCH/SID_REPLACE pair enabled in a guest VINTF
#            replaces with a physical StreamID of its guest's devices
#   sid      every guest ATC_INV reached the SMMU with one of those
#   host     no error on a queue of the host (VINTF0)
#
# A VINTF life without a marker is held to the devices of its SMMU.
#
# Usage: scripts/check-tegra-fuzz-trace.sh TRACEFILE CONSOLE
#        scripts/check-tegra-fuzz-trace.sh --self-test
# TRACEFILE: events tegra241_cmdqv_* and smmuv3_cmdq_exec (log backend).
# Prints TAP; exits non-zero if a test fails.
set -uo pipefail

check() {
	local trace=$1 console=$2
	if ! [ -r "$trace" ] || ! [ -r "$console" ]; then
		echo "check-tegra-fuzz-trace.sh: cannot read $trace or $console" >&2
		return 2
	fi
	awk -v console="$console" -f "$(dirname "$0")/tap.awk" -f - "$trace" <<'AWK'
function hex(s,    i, c, v) {
	s = tolower(s)
	sub(/^0x/, "", s)
	v = 0
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1))
		if (!c)
			return -1
		v = v * 16 + c - 1
	}
	return v
}

# " a b c" holds x?
function has(list, x,    n, a, i) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++)
		if (a[i] + 0 == x + 0)
			return 1
	return 0
}

BEGIN {
	allowed["SMMU_CMD_TLBI_NH_ASID"] = 1; allowed["SMMU_CMD_TLBI_NH_VA"] = 1
	allowed["SMMU_CMD_ATC_INV"] = 1; allowed["SMMU_CMD_SYNC"] = 1
	mark_q = hex("7e9a00000000"); mark_t = hex("7e9b00000000")
	while ((getline l < console) > 0) {
		gsub(/\r/, "", l)
		if (match(l, /# tegra viommu [0-9]+ iommu [0-9]+ psids [^ ]+/)) {
			split(substr(l, RSTART, RLENGTH), w, " ")
			t = w[4] + 0
			if (t in tag_iommu)
				note("link", "tag " t " named twice on the console")
			tag_iommu[t] = w[6] + 0
			tag_psids[t] = ""
			np = split(w[8], p, ",")
			for (i = 1; i <= np; i++)
				if (p[i] != "-")
					tag_psids[t] = tag_psids[t] " " hex(p[i])
			ntags++
		} else if (match(l, /# tegra iommu [0-9]+: .* psids/)) {
			nw = split(l, w, " ")
			for (i = 1; i <= nw && w[i] != "iommu"; i++)
				;
			io = w[i + 1] + 0
			for (; i <= nw && w[i] != "psids"; i++)
				;
			for (i++; i <= nw; i++)
				iommu_psids[io] = iommu_psids[io] " " hex(w[i])
		}
	}
}

/tegra241_cmdqv_vintf_config / {
	fields()
	s = f["smmu"]; key = s SUBSEP (f["vintf"] + 0)
	if (f["en"] + 0 == 1 && f["hyp_own"] + 0 == 0) {
		if (key in cur)
			next
		nl++
		cur[key] = nl
		lt_smmu[nl] = s; lt_vintf[nl] = f["vintf"] + 0
		lt_vmid[nl] = f["vmid"] + 0
		if (lt_vmid[nl] == 0)
			note("vmid", "line " FNR ": a guest VINTF with VMID 0 (the host's)")
		for (k in cur) {
			split(k, kk, SUBSEP)
			if (k != key && kk[1] == s && lt_vmid[cur[k]] == lt_vmid[nl])
				note("vmid", "line " FNR ": VINTF" lt_vintf[nl] " and VINTF" kk[2] \
				     " of " s " both live with VMID " lt_vmid[nl])
		}
	} else if (f["en"] + 0 == 0) {
		delete cur[key]
	}
	next
}

/tegra241_cmdqv_sid_replace / {
	fields()
	replace[f["smmu"], f["vintf"] + 0, f["slot"] + 0] = f["psid"] + 0
	next
}

# A pair counts when SID_MATCH is enabled, with the SID_REPLACE of its slot
/tegra241_cmdqv_sid_match / {
	fields()
	key = f["smmu"] SUBSEP (f["vintf"] + 0)
	if (f["enable"] + 0 == 1 && (key in cur)) {
		L = cur[key]
		lt_pairs[L] = lt_pairs[L] " " replace[f["smmu"], f["vintf"] + 0, f["slot"] + 0]
		lt_pline[L] = lt_pline[L] " " FNR
	}
	next
}

/tegra241_cmdqv_queue_error / {
	fields()
	if (f["vintf"] + 0 == 0)
		note("host", "line " FNR ": " $0)
	else
		gerr++
	next
}

/tegra241_cmdqv_cmd / {
	fields()
	s = f["smmu"]; key = s SUBSEP (f["vintf"] + 0)
	pend[s] = ""
	if (f["hyp_own"] + 0 == 1) {
		pend[s] = f["cmd"]; pl[s] = 0
		next
	}
	if (f["refused"] + 0 == 1) {
		refused++
		next
	}
	if (!(key in cur)) {
		note("link", "line " FNR ": a command of VINTF" f["vintf"] " outside its life")
		next
	}
	pend[s] = f["cmd"]; pl[s] = cur[key]
	next
}

/smmuv3_cmdq_exec / {
	fields()
	s = f["smmu"]; c = f["cmd"]
	L = pend[s] == c ? pl[s] : 0
	pend[s] = ""
	a = hex(f["addr"])
	if (c == "SMMU_CMD_TLBI_NH_VA" && a >= mark_t && a < mark_t + 4096 * 1048576) {
		t = (a - mark_t) / 4096
		if (L)
			note("link", "line " FNR ": a trapped marker from a guest VINTF")
		else if ((t in trapped) && trapped[t] != f["vmid"] + 0)
			note("s2vmid", "line " FNR ": tag " t " trapped with VMID " f["vmid"] \
			     " and " trapped[t])
		else
			trapped[t] = f["vmid"] + 0
	}
	if (!L)
		next
	line = "line " FNR ": " c " sid=" f["sid"] " vmid=" f["vmid"] " from VINTF" \
	       lt_vintf[L] " of " s " (VMID " lt_vmid[L] ")"
	gcmds++
	if (!(c in allowed))
		note("allow", line)
	if (f["vmid"] + 0 >= 0 && f["vmid"] + 0 != lt_vmid[L])
		note("vmid", line)
	if (c == "SMMU_CMD_ATC_INV") {
		natc++
		lt_atc[L] = lt_atc[L] " " (f["sid"] + 0)
		lt_aline[L] = lt_aline[L] " " FNR
	}
	if (c == "SMMU_CMD_TLBI_NH_VA" && a >= mark_q && a < mark_q + 4096 * 1048576) {
		t = (a - mark_q) / 4096
		if ((L in lt_tag) && lt_tag[L] != t)
			note("link", line ": marks tag " t ", after tag " lt_tag[L])
		else if ((t in tag_life) && tag_life[t] != L)
			note("link", line ": tag " t " marked a second VINTF life")
		lt_tag[L] = t
		tag_life[t] = L
	}
}

# Each of the numbers in @list must be in @ok; else a note of @key
function within(key, list, ok, lines, what,    n, a, m, b, i) {
	n = split(list, a, " ")
	m = split(lines, b, " ")
	for (i = 1; i <= n; i++)
		if (!has(ok, a[i]))
			note(key, "line " b[i] ": " what " pSID " a[i] " (0x" \
			     sprintf("%x", a[i]) "), its guest's are" (ok == "" ? " none" : ok))
}

END {
	# Which IOMMU of the fuzzer each SMMU is, from the marked lives
	for (L = 1; L <= nl; L++) {
		s = lt_smmu[L]
		if (!(L in lt_tag) || !((t = lt_tag[L]) in tag_iommu))
			continue
		if ((s in smmu_iommu) && smmu_iommu[s] != tag_iommu[t])
			note("link", s " is IOMMU " smmu_iommu[s] " and IOMMU " tag_iommu[t])
		smmu_iommu[s] = tag_iommu[t]
	}
	for (L = 1; L <= nl; L++) {
		s = lt_smmu[L]
		if (L in lt_tag) {
			t = lt_tag[L]
			ntagged++
			if (!(t in tag_iommu)) {
				note("link", "tag " t " (VINTF" lt_vintf[L] " of " s ") not on the console")
				continue
			}
			ok = tag_psids[t]
			what = "tag " t " (VINTF" lt_vintf[L] " of " s ")"
			if (t in trapped) {
				nvmid++
				if (trapped[t] != lt_vmid[L])
					note("s2vmid", what ": VINTF VMID " lt_vmid[L] \
					     ", its vIOMMU's trapped commands VMID " trapped[t])
			}
		} else {
			if (!(s in smmu_iommu)) {
				unlinked++
				continue
			}
			ok = iommu_psids[smmu_iommu[s]]
			what = "unmarked VINTF" lt_vintf[L] " of " s
		}
		within("pairs", lt_pairs[L], ok, lt_pline[L], what ": a SID pair to")
		within("sid", lt_atc[L], ok, lt_aline[L], what ": an ATC_INV to")
	}
	print "TAP version 13"
	print "1..7"
	diag["nothing"] = "# " ntags + 0 " tegra vIOMMUs on the console, " nl + 0 \
		" guest VINTF lives, " gcmds + 0 " commands passed on, " ntagged + 0 " marked\n"
	nd["nothing"] = !(ntags > 0 && nl > 0 && gcmds > 0 && ntagged > 0)
	tap(!nd["nothing"] && !nd["link"],
	    ntags + 0 " tegra vIOMMUs, " nl + 0 " guest VINTF lives (" ntagged + 0 \
	    " marked), " gcmds + 0 " guest commands passed on, " refused + 0 " refused, " \
	    gerr + 0 " guest queue errors", "nothing|link")
	tap(!nd["allow"], "a guest VINTF passed on only TLBI_NH_ASID, TLBI_NH_VA, ATC_INV, CMD_SYNC",
	    "allow")
	tap(!nd["vmid"], "every guest command carried its VINTF's VMID; no VMID 0, none shared",
	    "vmid")
	diag["novmid"] = "# no marked VINTF's vIOMMU sent a trapped marker\n"
	nd["novmid"] = !nvmid
	tap(nvmid && !nd["s2vmid"], "each marked VINTF has its vIOMMU's VMID (" nvmid + 0 ")",
	    "novmid|s2vmid")
	tap(!nd["pairs"], "every SID pair of a guest VINTF names its guest's device" \
	    (unlinked ? " (" unlinked " lives unchecked)" : ""), "pairs")
	tap(!nd["sid"], "every guest ATC_INV (" natc + 0 ") reached the SMMU with its guest's pSID",
	    "sid")
	tap(!nd["host"], "no error on a queue of the host (VINTF0)", "host")
	exit failed != 0
}
AWK
}

# A synthetic run: tag 1 on smmuv3.0 (VINTF1, VMID 5, device 0x8), tag 2
# on smmuv3.1 (VINTF1, VMID 6, device 0x900).
good_console() {
	cat <<'EOF'
# tegra iommu 0: CMDQV version 1, 2 VCMDQs and 1 SID pairs per VINTF, VCMDQs of up to 2^18 commands; psids 0x8 0x28
# tegra iommu 1: CMDQV version 1, 2 VCMDQs and 16 SID pairs per VINTF, VCMDQs of up to 2^18 commands; psids 0x900
# tegra viommu 1 iommu 0 psids 0x8
# tegra viommu 2 iommu 1 psids 0x900
EOF
}

good_trace() {
	cat <<'EOF'
tegra241_cmdqv_vintf_config smmu=smmuv3.0 vintf=0 en=1 hyp_own=1 vmid=0
tegra241_cmdqv_vintf_config smmu=smmuv3.1 vintf=0 en=1 hyp_own=1 vmid=0
tegra241_cmdqv_sid_match smmu=smmuv3.0 vintf=1 slot=0 enable=0 vsid=0
tegra241_cmdqv_sid_replace smmu=smmuv3.0 vintf=1 slot=0 psid=0
tegra241_cmdqv_vintf_config smmu=smmuv3.0 vintf=1 en=0 hyp_own=0 vmid=5
tegra241_cmdqv_vintf_config smmu=smmuv3.0 vintf=1 en=1 hyp_own=0 vmid=5
tegra241_cmdqv_cmd smmu=smmuv3.0 vintf=0 vcmdq=0 lvcmdq=0 hyp_own=1 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 vmid=5 refused=0
smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=5 asid=0 addr=0x7e9b00001000
tegra241_cmdqv_sid_replace smmu=smmuv3.0 vintf=1 slot=0 psid=8
tegra241_cmdqv_sid_match smmu=smmuv3.0 vintf=1 slot=0 enable=1 vsid=64
tegra241_cmdqv_vintf_config smmu=smmuv3.1 vintf=1 en=0 hyp_own=0 vmid=6
tegra241_cmdqv_vintf_config smmu=smmuv3.1 vintf=1 en=1 hyp_own=0 vmid=6
tegra241_cmdqv_cmd smmu=smmuv3.1 vintf=0 vcmdq=0 lvcmdq=0 hyp_own=1 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 vmid=6 refused=0
smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=6 asid=0 addr=0x7e9b00002000
tegra241_cmdqv_sid_replace smmu=smmuv3.1 vintf=1 slot=3 psid=2304
tegra241_cmdqv_sid_match smmu=smmuv3.1 vintf=1 slot=3 enable=1 vsid=65
tegra241_cmdqv_cmd smmu=smmuv3.0 vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 vmid=5 refused=0
smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=5 asid=0 addr=0x7e9a00001000
tegra241_cmdqv_cmd smmu=smmuv3.0 vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_ATC_INV sid=8 vmid=-1 refused=0
smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_ATC_INV sid=8 ssid=-1 vmid=-1 asid=-1 addr=0x0
tegra241_cmdqv_cmd smmu=smmuv3.0 vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_CFGI_STE sid=40 vmid=-1 refused=1
tegra241_cmdqv_queue_error smmu=smmuv3.0 vintf=1 vcmdq=2 lvcmdq=0 cons=0x1000003 err=1
tegra241_cmdqv_cmd smmu=smmuv3.1 vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 vmid=6 refused=0
smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=6 asid=0 addr=0x7e9a00002000
tegra241_cmdqv_cmd smmu=smmuv3.1 vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_ATC_INV sid=2304 vmid=-1 refused=0
smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_ATC_INV sid=2304 ssid=-1 vmid=-1 asid=-1 addr=0x0
tegra241_cmdqv_cmd smmu=smmuv3.1 vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 vmid=6 refused=0
smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 ssid=-1 vmid=6 asid=3 addr=0x0
tegra241_cmdqv_sid_match smmu=smmuv3.0 vintf=1 slot=0 enable=0 vsid=0
tegra241_cmdqv_vintf_config smmu=smmuv3.0 vintf=1 en=0 hyp_own=0 vmid=0
tegra241_cmdqv_vintf_config smmu=smmuv3.0 vintf=2 en=1 hyp_own=0 vmid=7
tegra241_cmdqv_cmd smmu=smmuv3.0 vintf=2 vcmdq=4 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_SYNC sid=-1 vmid=-1 refused=0
smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_SYNC sid=-1 ssid=-1 vmid=-1 asid=-1 addr=0x0
EOF
}

self_test() {
	local tmp t=0 failed=0
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	good_console > "$tmp/console"
	good_trace > "$tmp/good"
	echo "TAP version 13"
	echo "1..9"
	expect() {	# expect pass|fail NAME [CONSOLE]: check $tmp/trace
		expect_check "$1" "$2" check "$tmp/trace" "${3:-$tmp/console}"
	}
	cp "$tmp/good" "$tmp/trace"
	expect pass "a trace of a well-behaved run passes"
	grep -v 'hyp_own=0' "$tmp/good" > "$tmp/trace"
	expect fail "a trace with no guest VINTF command fails"
	sed 's/\(smmuv3.0 cmd=SMMU_CMD_ATC_INV\) sid=8/\1 sid=40/' "$tmp/good" > "$tmp/trace"
	expect fail "an ATC_INV that reached another guest's device (0x28) fails"
	sed 's/psid=2304/psid=8/' "$tmp/good" > "$tmp/trace"
	expect fail "a SID pair to a device of another SMMU fails"
	sed '/smmuv3.1 cmd=SMMU_CMD_TLBI_NH_ASID/s/vmid=6/vmid=5/' "$tmp/good" > "$tmp/trace"
	expect fail "a guest TLBI with another VINTF's VMID fails"
	sed '/addr=0x7e9b00002000/s/vmid=6/vmid=9/' \
		"$tmp/good" > "$tmp/trace"
	expect fail "a VINTF whose VMID is not its vIOMMU's fails"
	sed 's/\(vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_CFGI_STE sid=40 vmid=-1\) refused=1/\1 refused=0/; /smmuv3.0 vintf=1 .*cons=0x1000003/s/.*/smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_CFGI_STE sid=40 ssid=-1 vmid=-1 asid=-1 addr=0x0/' \
		"$tmp/good" > "$tmp/trace"
	expect fail "a CFGI_STE a guest VINTF passed on fails"
	{ cat "$tmp/good"; echo "tegra241_cmdqv_queue_error smmu=smmuv3.1 vintf=0 vcmdq=1 lvcmdq=1 cons=0x1000000 err=1"; } > "$tmp/trace"
	expect fail "an error on a VCMDQ of VINTF0 fails"
	sed '/smmuv3.0 vintf=1 en=0 hyp_own=0 vmid=0/d; s/vintf=2 en=1 hyp_own=0 vmid=7/vintf=2 en=1 hyp_own=0 vmid=5/' \
		"$tmp/good" > "$tmp/trace"
	expect fail "two live guest VINTFs of an SMMU with one VMID fail"
	return $failed
}

if [ "${1:-}" = --self-test ]; then
	. "$(dirname "$0")/selftest.sh"
	self_test
	exit
fi
check "${1:?usage: check-tegra-fuzz-trace.sh TRACEFILE CONSOLE | --self-test}" \
	"${2:?usage: check-tegra-fuzz-trace.sh TRACEFILE CONSOLE | --self-test}"
