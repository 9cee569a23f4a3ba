#!/bin/bash
# Check the outer QEMU's trace of tests/realvmm.plan: Debian's QEMU 11.1
# ran an inner guest whose own SMMUv3 drivers drove one accelerated vSMMU
# per physical SMMU, once with cmdqv=off and once with cmdqv=on
# (guest/realvmm.c). Each run is framed by marker commands, TLBI_NH_VA of
#
#   cmdqv=off: 0x7e5700000000 (open) .. 0x7e5700001000 (close)
#   cmdqv=on:  0x7e5700010000 (open) .. 0x7e5700011000 (close)
#
# For each run and each SMMU (smmuv3.0, edu 0000:00:01.0, StreamID 0x8;
# smmuv3.1, edus 0000:09:00.0 and 0000:0a:00.0, StreamIDs 0x900, 0xa00):
#
#  - the guest's invalidations (TLBI_NH_ASID/VA with a non-zero VMID)
#    reached that SMMU, all with one VMID, its vIOMMU's;
#  - cmdqv=off: every one was trapped and forwarded by the kernel (the
#    SMMU's own queue or the host's VINTF0), none came from a guest VINTF;
#    cmdqv=on: every one came through a guest-owned VINTF (HYP_OWN 0) of
#    that SMMU's CMDQV, with that VINTF's VMID, none through the kernel;
#  - cmdqv=on: the kernel enabled that VINTF in guest mode with the VMID
#    the guest's invalidations carried, and gave it the vSID -> pSID pair of the edu
#    (0x18 -> 0x8, 0x1100 -> 0x900: QEMU's guest StreamIDs);
#  - every command naming a StreamID named a physical one (0x8, 0x900,
#    0xa00), never a guest's (0x18, 0x20, 0x1100).
#
# A command that a VINTF passed on is traced twice, by the VCMDQ
# (tegra241_cmdqv_cmd, with its VINTF) and then by the SMMU
# (smmuv3_cmdq_exec); a command with no tegra241_cmdqv_cmd line just
# before it came from the SMMU's own command queue.
#
# Usage: scripts/check-realvmm-trace.sh TRACEFILE (events smmuv3_cmdq_exec
# and tegra241_cmdqv_*). Prints TAP; exits non-zero if a test fails.
# --self-test runs the check on synthetic traces, a good one and ways it
# can go wrong, each of which must fail.
set -uo pipefail

check() {
	[ -r "$1" ] || { echo "check-realvmm-trace.sh: cannot read $1" >&2; return 2; }
	awk -f "$(dirname "$0")/tap.awk" -f - "$1" <<'AWK'
BEGIN {
	runname[0] = "cmdqv=off"; runname[1] = "cmdqv=on"
	for (r = 0; r < 2; r++) {
		opener[sprintf("0x7e57000%d0000", r)] = r
		closer[sprintf("0x7e57000%d1000", r)] = r
	}
	smmus[1] = "smmuv3.0"; smmus[2] = "smmuv3.1"
	psid[8] = 1; psid[2304] = 1; psid[2560] = 1
	pair["smmuv3.0"] = "24>8"; pair["smmuv3.1"] = "4352>2304"
	win = -1
}
{ fields() }
$1 == "tegra241_cmdqv_cmd" {
	s = f["smmu"]
	pend[s] = f["vintf"]; pendcmd[s] = f["cmd"]
	pendown[s] = f["hyp_own"]
	next
}
win >= 0 && $1 == "tegra241_cmdqv_vintf_config" && f["en"] == 1 && f["hyp_own"] == 0 {
	vintfvmid[win, f["smmu"]] = f["vmid"]
	next
}
# A SID pair is the SID_MATCH (enabled, vSID) and SID_REPLACE (pSID) of
# one slot of a VINTF, written in either order.
win >= 0 && $1 == "tegra241_cmdqv_sid_match" {
	s = f["smmu"]; k = s SUBSEP f["vintf"] SUBSEP f["slot"]
	vsid[k] = f["enable"] == 1 ? f["vsid"] : ""
	if (vsid[k] != "" && psid_of[k] != "")
		pairs[win, s, vsid[k] ">" psid_of[k]] = 1
	next
}
win >= 0 && $1 == "tegra241_cmdqv_sid_replace" {
	s = f["smmu"]; k = s SUBSEP f["vintf"] SUBSEP f["slot"]
	psid_of[k] = f["psid"]
	if (vsid[k] != "" && psid_of[k] != "")
		pairs[win, s, vsid[k] ">" psid_of[k]] = 1
	next
}
$1 != "smmuv3_cmdq_exec" { next }
{
	s = f["smmu"]; cmd = f["cmd"]; addr = f["addr"]
	vintf = -1
	if ((s in pend) && pendcmd[s] == cmd) {
		vintf = pend[s] + 0
		own = pendown[s]
	}
	delete pend[s]
	if (cmd == "SMMU_CMD_TLBI_NH_VA" && (addr in opener)) {
		win = opener[addr]; opened[win] = 1
		next
	}
	if (cmd == "SMMU_CMD_TLBI_NH_VA" && (addr in closer)) {
		if (win == closer[addr])
			closed[win] = 1
		win = -1
		next
	}
	if (win < 0)
		next
	sid = f["sid"] + 0
	if (sid >= 0 && !(sid in psid)) {
		badsid[win]++
		note("sid" win, $0)
	}
	vmid = f["vmid"] + 0
	if (cmd !~ /^SMMU_CMD_TLBI_NH_(VA|ASID)$/ || vmid <= 0)
		next
	k = win SUBSEP s
	if (!((k, vmid) in vmids)) {
		vmids[k, vmid] = 1
		nvmid[k]++
		vmidlist[k] = vmidlist[k] " " vmid
	}
	if (vintf >= 1 && own == 0) {
		viavcmdq[k]++
		if (!win)
			note("path" k, $0 " (from VINTF" vintf ")")
	} else {
		trapped[k]++
		if (win)
			note("path" k, $0 (vintf < 0 ? " (SMMU queue)" : " (VINTF" vintf ")"))
	}
}
END {
	for (r = 0; r < 2; r++) {
		tap(opened[r] && closed[r], runname[r] ": the run is framed by its markers in the trace", "")
		for (i = 1; i <= 2; i++) {
			s = smmus[i]; k = r SUBSEP s
			tap(nvmid[k] == 1, sprintf("%s: %s: the guest invalidated (%d trapped, %d through a VCMDQ), all with one VMID:%s",
				runname[r], s, trapped[k], viavcmdq[k], vmidlist[k]), "")
			if (r == 0)
				tap(trapped[k] > 0 && !viavcmdq[k], sprintf("%s: %s: every guest invalidation was trapped and forwarded by the kernel", runname[r], s), "path" k)
			else
				tap(viavcmdq[k] > 0 && !trapped[k], sprintf("%s: %s: every guest invalidation went through a guest VINTF, none through the kernel", runname[r], s), "path" k)
			if (r == 1) {
				tap(nvmid[k] == 1 && vmidlist[k] == " " vintfvmid[k], sprintf("%s: %s: the kernel enabled a guest VINTF (HYP_OWN 0) with that VMID (%s)", runname[r], s, vintfvmid[k]), "")
				split(pair[s], pv, ">")
				tap((r, s, pair[s]) in pairs, sprintf("%s: %s: the guest VINTF has the pair vSID 0x%x -> pSID 0x%x", runname[r], s, pv[1], pv[2]), "")
			}
		}
		tap(!badsid[r], sprintf("%s: every StreamID that reached an SMMU is a physical one (%d others)", runname[r], badsid[r]), "sid" r)
	}
	printf "1..%d\n", n
	exit failed ? 1 : 0
}
AWK
}

# A trace of what the two runs should leave: per run and SMMU, the host's
# own commands, a CFGI_STE of the physical SID, and the guest's TLBIs,
# trapped (through the host's VINTF0) with cmdqv=off and through a guest
# VINTF with its vSID -> pSID pair with cmdqv=on.
good_trace() {
	local r i s vsid psid
	for r in 0 1; do
		echo "smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=3 asid=0 addr=0x7e57000${r}0000"
		for i in 0 1; do
			s=smmuv3.$i
			vsid=$((i ? 4352 : 24)) psid=$((i ? 2304 : 8))
			echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_CFGI_STE sid=$psid ssid=-1 vmid=-1 asid=-1 addr=0x0"
			echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 ssid=-1 vmid=0 asid=1 addr=0x0"
			if [ $r = 0 ]; then
				echo "tegra241_cmdqv_cmd smmu=$s vintf=0 vcmdq=1 lvcmdq=1 hyp_own=1 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 vmid=1 refused=0"
				echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=1 asid=1 addr=0x4000"
				echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 ssid=-1 vmid=1 asid=1 addr=0x0"
			else
				echo "tegra241_cmdqv_vintf_config smmu=$s vintf=1 en=1 hyp_own=0 vmid=1"
				echo "tegra241_cmdqv_sid_replace smmu=$s vintf=1 slot=0 psid=$psid"
				echo "tegra241_cmdqv_sid_match smmu=$s vintf=1 slot=0 enable=1 vsid=$vsid"
				echo "tegra241_cmdqv_cmd smmu=$s vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 vmid=1 refused=0"
				echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=1 asid=1 addr=0x4000"
				echo "tegra241_cmdqv_cmd smmu=$s vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_SYNC sid=-1 vmid=-1 refused=0"
				echo "smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_SYNC sid=-1 ssid=-1 vmid=-1 asid=-1 addr=0x0"
			fi
		done
		echo "smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=3 asid=0 addr=0x7e57000${r}1000"
	done
}

self_test() {
	local tmp t=0 failed=0 rc
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
	awk '/addr=0x7e5700011000/ { seen = 1 } /addr=0x7e5700010000/ { on = 1 }
	     on && !seen && /tegra241_cmdqv_cmd.*vintf=1.*TLBI/ { sub(/vintf=1/, "vintf=0"); sub(/hyp_own=0/, "hyp_own=1") } 1' \
		"$tmp/good" > "$tmp/trace"
	expect fail "cmdqv=on: a guest TLBI that was trapped fails"
	awk '/addr=0x7e5700000000/ { off = 1 } /addr=0x7e5700001000/ { off = 0 }
	     off && /tegra241_cmdqv_cmd.*vintf=0.*TLBI_NH_VA/ { sub(/vintf=0/, "vintf=1"); sub(/hyp_own=1/, "hyp_own=0") } 1' \
		"$tmp/good" > "$tmp/trace"
	expect fail "cmdqv=off: a guest TLBI from a guest VINTF fails"
	sed '0,/CFGI_STE sid=8 /s//CFGI_STE sid=24 /' "$tmp/good" > "$tmp/trace"
	expect fail "a guest vSID (0x18) that reached an SMMU fails"
	sed '0,/TLBI_NH_ASID sid=-1 ssid=-1 vmid=1 /s//TLBI_NH_ASID sid=-1 ssid=-1 vmid=7 /' "$tmp/good" > "$tmp/trace"
	expect fail "two VMIDs of the guest on one SMMU in one run fail"
	grep -v 'addr=0x7e5700011000' "$tmp/good" > "$tmp/trace"
	expect fail "a run without its closing marker fails"
	grep -v 'sid_match smmu=smmuv3.1' "$tmp/good" > "$tmp/trace"
	expect fail "cmdqv=on: no vSID -> pSID pair on one SMMU fails"
	awk '/addr=0x7e5700010000/ { on = 1 } !(on && /smmuv3.1/ && /TLBI_NH_VA/)' "$tmp/good" > "$tmp/trace"
	expect fail "cmdqv=on: no guest invalidation on one SMMU fails"
	sed 's/\(vintf_config smmu=smmuv3.0 vintf=1 en=1 hyp_own=0\) vmid=1/\1 vmid=2/' "$tmp/good" > "$tmp/trace"
	expect fail "cmdqv=on: a VINTF whose VMID is not the one the commands carried fails"
	return $failed
}

if [ "${1:-}" = --self-test ]; then
	. "$(dirname "$0")/selftest.sh"
	self_test
	exit
fi
check "${1:?usage: check-realvmm-trace.sh TRACEFILE | --self-test}"
