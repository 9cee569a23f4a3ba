#!/bin/bash
# Check a QEMU trace of guest/one-vsmmu.c (tests/nested.plan, topology
# dual) for what one guest vSMMU over the two physical SMMUs put on their
# command queues through lib/vsmmu1.[ch]: a SID-scoped command on the SMMU
# of its device only, with that device's physical SID; a TLB invalidation
# on both, each with the VMID of its own SMMU's vIOMMU.
#
# Usage: scripts/check-onevsmmu-trace.sh TRACEFILE | --self-test
#
# TRACEFILE holds QEMU's smmuv3_cmdq_exec events (log backend, with or
# without the "PID@TIME:" prefix; other lines are ignored):
#
#   smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_CFGI_CD sid=2304 ssid=0
#     vmid=-1 asid=-1 addr=0x0
#
# The test "dma" of one-vsmmu brackets its guest commands with TLBI_NH_ASID
# markers the layer broadcasts (ASIDs no CD has: 0x1b0 begin, 0x1b1
# middle, 0x1b2 end). Per SMMU, between begin and middle: the guest's one
# TLBI_NH_VA (ASID 0x1c0, VA 0xabc00200000) and, on smmuv3.0 only, the
# CFGI_CD of vSID 0x71 as physical SID 0x8; between middle and end, on
# smmuv3.1 only, the CFGI_CD of vSID 0x72 as 0x900. No other CFGI in the
# window; every command with a VMID in it carries one VMID per SMMU, not
# 0 (the host's own stage 1). The guest's vSIDs (0x71, 0x72, 0x73) never
# reach an SMMU anywhere in the trace. Prints TAP; exits non-zero if a
# test fails.
#
# --self-test runs the check on synthetic traces: a good one, and each way
# a VMM can get this shape wrong, which must fail.
set -uo pipefail

check() {
	[ -r "$1" ] || { echo "check-onevsmmu-trace.sh: cannot read $1" >&2; return 2; }
	awk -f "$(dirname "$0")/tap.awk" -f - "$1" <<'AWK'
BEGIN {
	smmus[1] = "smmuv3.0"; smmus[2] = "smmuv3.1"
	psid["smmuv3.0"] = 8; psid["smmuv3.1"] = 2304
	# The markers (decimal ASIDs) and the phase each opens.
	mark[432] = 1; mark[433] = 2; mark[434] = 3
	vsid[113] = 1; vsid[114] = 1; vsid[115] = 1
	asid_a = 448; guest_va = "0xabc00200000"
}

/smmuv3_cmdq_exec / {
	fields()
	s = f["smmu"]; c = f["cmd"]; sid = f["sid"] + 0
	vmid = f["vmid"] + 0; asid = f["asid"] + 0
	sub(/^SMMU_CMD_/, "", c)
	line = sprintf("line %d: %s %s sid=%s vmid=%s asid=%s", FNR, s, c,
		       sid < 0 ? "-" : sprintf("0x%x", sid),
		       vmid < 0 ? "-" : vmid, asid < 0 ? "-" : sprintf("0x%x", asid))
	events++
	if (sid in vsid)
		note("vsid", line)
	if (!(s in psid))
		next
	p = ph[s] + 0
	if (c == "TLBI_NH_ASID" && (asid in mark)) {
		nmark[s, asid]++
		if (mark[asid] != p + 1)
			note("mark " s, line " (after phase " p ")")
		ph[s] = mark[asid]
		p = 1	# the markers belong to the window
	}
	if (p < 1 || p > 2)
		next
	if (vmid >= 0) {
		if (vmid == 0)
			note("vmid " s, line " (the host's VMID 0)")
		else if (!((s) in the_vmid))
			the_vmid[s] = vmid
		else if (vmid != the_vmid[s])
			note("vmid " s, line " (first VMID " the_vmid[s] ")")
	}
	if (c == "TLBI_NH_VA" && tolower(f["addr"]) == guest_va) {
		if (asid == asid_a && ph[s] == 1)
			nva[s]++
		else
			note("va " s, line " (phase " ph[s] ")")
	}
	if (c ~ /^CFGI_/) {
		ncfg[s, ph[s]]++
		if (c == "CFGI_CD" && sid == psid[s])
			ncd[s, ph[s]]++
		else
			note("cfgi", line)
	}
}

END {
	print "TAP version 13"
	print "1..9"
	if (!events)
		print "# no smmuv3_cmdq_exec event in the trace"
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		ok = nmark[s, 432] == 1 && nmark[s, 433] == 1 && nmark[s, 434] == 1 && !nd["mark " s]
		if (!ok)
			diag["mark " s] = diag["mark " s] sprintf("# markers on %s: begin %d, middle %d, end %d\n",
				s, nmark[s, 432], nmark[s, 433], nmark[s, 434])
		tap(ok, s ": the broadcast markers, once each, in order", "mark " s)
	}
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		if (nva[s] != 1)
			diag["va " s] = diag["va " s] sprintf("# %d TLBI_NH_VA of the guest VA on %s before the middle marker\n", nva[s], s)
		tap(nva[s] == 1 && !nd["va " s],
		    s ": the guest's one TLBI_NH_VA (ASID 0x1c0, VA " guest_va ") reached it once", "va " s)
	}
	s0 = smmus[1]; s1 = smmus[2]
	ok = ncfg[s0, 1] == 1 && ncd[s0, 1] == 1 && ncfg[s1, 1] == 0
	if (!ok)
		diag["cd0"] = sprintf("# begin..middle: CFGI on smmuv3.0 %d (CFGI_CD of 0x8: %d), on smmuv3.1 %d\n",
				      ncfg[s0, 1], ncd[s0, 1], ncfg[s1, 1])
	tap(ok, "the CFGI_CD of vSID 0x71 reached smmuv3.0 only, as SID 0x8", "cd0|cfgi")
	ok = ncfg[s1, 2] == 1 && ncd[s1, 2] == 1 && ncfg[s0, 2] == 0
	if (!ok)
		diag["cd1"] = sprintf("# middle..end: CFGI on smmuv3.1 %d (CFGI_CD of 0x900: %d), on smmuv3.0 %d\n",
				      ncfg[s1, 2], ncd[s1, 2], ncfg[s0, 2])
	tap(ok, "the CFGI_CD of vSID 0x72 reached smmuv3.1 only, as SID 0x900", "cd1|cfgi")
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		tap(!nd["vmid " s] && (s in the_vmid),
		    s ": every command with a VMID in the window carried one, its vIOMMU's (" \
		    (s in the_vmid ? the_vmid[s] : "none") ")", "vmid " s)
	}
	tap(!nd["vsid"], "no guest vSID (0x71, 0x72, 0x73) reached an SMMU", "vsid")
	exit failed != 0
}
AWK
}

# What one-vsmmu's test "dma" leaves, with the host's own commands around
# it: both SMMUs' VMIDs are 1 here (each SMMU numbers its own).
good_trace() {
	local s
	echo "smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_CFGI_STE sid=8 ssid=-1 vmid=-1 asid=-1 addr=0x0"
	echo "smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_CFGI_STE sid=2304 ssid=-1 vmid=-1 asid=-1 addr=0x0"
	echo "smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 ssid=-1 vmid=0 asid=1 addr=0x0"
	marker() {
		for s in smmuv3.0 smmuv3.1; do
			echo "1234@1700000000.000001:smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 ssid=-1 vmid=$2 asid=$1 addr=0x0"
			echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_SYNC sid=-1 ssid=-1 vmid=-1 asid=-1 addr=0x0"
		done
	}
	marker 432 1
	for s in smmuv3.0 smmuv3.1; do
		echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=1 asid=448 addr=0xabc00200000"
		echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_SYNC sid=-1 ssid=-1 vmid=-1 asid=-1 addr=0x0"
	done
	echo "smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_CFGI_CD sid=8 ssid=0 vmid=-1 asid=-1 addr=0x0"
	echo "smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_SYNC sid=-1 ssid=-1 vmid=-1 asid=-1 addr=0x0"
	marker 433 1
	echo "smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_CFGI_CD sid=2304 ssid=0 vmid=-1 asid=-1 addr=0x0"
	echo "smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_SYNC sid=-1 ssid=-1 vmid=-1 asid=-1 addr=0x0"
	marker 434 1
	# After the window: batch_errors, and the host's own commands.
	echo "smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_CFGI_CD sid=2304 ssid=0 vmid=-1 asid=-1 addr=0x0"
	echo "smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=1 asid=448 addr=0xabc00200000"
	echo "smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_CFGI_STE sid=8 ssid=-1 vmid=-1 asid=-1 addr=0x0"
}

self_test() {
	local tmp t=0 failed=0
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	good_trace > "$tmp/good"
	echo "TAP version 13"
	echo "1..9"
	expect() {	# expect pass|fail NAME: check $tmp/trace
		expect_check "$1" "$2" check "$tmp/trace"
	}
	cp "$tmp/good" "$tmp/trace"
	expect pass "a trace of the expected commands passes"
	grep -v 'smmu=smmuv3.1 cmd=SMMU_CMD_TLBI_NH_VA' "$tmp/good" > "$tmp/trace"
	expect fail "a TLBI_NH_VA sent to one vIOMMU only (not broadcast) fails"
	sed '/CFGI_CD sid=8 /{p;s/smmuv3.0/smmuv3.1/;s/sid=8 /sid=2304 /}' "$tmp/good" > "$tmp/trace"
	expect fail "a CFGI_CD of one vSID broadcast to both SMMUs fails"
	sed '0,/CFGI_CD sid=8 /s//CFGI_CD sid=113 /' "$tmp/good" > "$tmp/trace"
	expect fail "the guest's vSID 0x71 on an SMMU fails"
	sed '0,/smmuv3.1 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=1 /s//smmuv3.1 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=2 /' "$tmp/good" > "$tmp/trace"
	expect fail "a TLBI with another VMID than its SMMU's vIOMMU's fails"
	sed '0,/smmuv3.0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=1 /s//smmuv3.0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=0 /' "$tmp/good" > "$tmp/trace"
	expect fail "a TLBI with the host's VMID 0 fails"
	grep -v 'asid=434 ' "$tmp/good" > "$tmp/trace"
	expect fail "a window without its end marker fails"
	awk '/CFGI_CD sid=8 / { next } /asid=434 / && /smmuv3.0/ && !d { print "smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_CFGI_CD sid=8 ssid=0 vmid=-1 asid=-1 addr=0x0"; d = 1 } 1' \
		"$tmp/good" > "$tmp/trace"
	expect fail "the CFGI_CD of vSID 0x71 late, after the middle marker, fails"
	: > "$tmp/trace"
	expect fail "an empty trace fails"
	return $failed
}

if [ "${1:-}" = --self-test ]; then
	. "$(dirname "$0")/selftest.sh"
	self_test
	exit
fi
check "${1:?usage: check-onevsmmu-trace.sh TRACEFILE | --self-test}"
