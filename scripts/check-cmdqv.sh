#!/bin/bash
# Check a QEMU trace and the console of tests/cmdqv-host.plan (topology dual,
# tegra241-cmdqv=on on both SMMUs): Linux 6.12 probed each SMMU's CMDQV and
# sends its own commands through the VCMDQs of VINTF0 (HYP_OWN), and the
# commands guest/cmdqv.c queued on VINTF1 of each CMDQV (guest-owned) were
# filtered and rewritten on their way to that SMMU.
#
# Usage: scripts/check-cmdqv.sh TRACEFILE CONSOLE
#        scripts/check-cmdqv.sh --self-test
#
# TRACEFILE holds the tegra241_cmdqv_* and smmuv3_cmdq_exec events, in the
# log backend's format (hw/arm/trace-events has their fields). A command
# that a VCMDQ passes on to its SMMU shows as tegra241_cmdqv_cmd and then,
# at once (both under QEMU's big lock), as smmuv3_cmdq_exec on that SMMU;
# one from the SMMU's own queue shows as smmuv3_cmdq_exec alone. Checks:
#
#   host   per SMMU: VINTF0 enabled with HYP_OWN; CFGI_* and TLBI_*
#          commands came from VINTF0's VCMDQs (those CMDQ_ALLOC gives it);
#          once VINTF0 was up, no command reached the SMMU from its own
#          queue; no VINTF0 error. The console shows both CMDQVs found
#          and none fall back to the SMMU's CMDQ.
#   guest  per SMMU (guest/cmdqv.c, VINTF1: VMID 0x77, vSID 0x42 -> pSID
#          0x700 + the CMDQV's index): TLBI_NH_* reached the SMMU with VMID
#          0x77, never the guest's 0x5a5a; ATC_INV with the pSID, never
#          the vSID; CFGI_ALL and unmatched ATC_INVs were refused with
#          CERROR_ILL and never reached the SMMU.
#
# Prints TAP; exits non-zero if a test fails. --self-test runs the check on
# synthetic traces that must fail (and one that must pass).
set -uo pipefail

check() {
	local trace=$1 console=$2
	if ! [ -r "$trace" ] || ! [ -r "$console" ]; then
		echo "check-cmdqv.sh: cannot read $trace or $console" >&2
		return 2
	fi
	awk -v console="$console" -f "$(dirname "$0")/tap.awk" -f - "$trace" <<'AWK'
BEGIN {
	smmus[1] = "smmuv3.0"; smmus[2] = "smmuv3.1"
	psid["smmuv3.0"] = 1792; psid["smmuv3.1"] = 1793	# 0x700 + index
	vmid1 = 119; guest_vmid = 23130; vsid = 66
	while ((getline l < console) > 0) {
		if (l ~ /found companion CMDQV device: NVDA200C:/) {
			sub(/.*found companion CMDQV device: /, "", l)
			found[l] = 1
		}
		if (l ~ /Falling back to standard SMMU CMDQ/ || l ~ /tegra241_cmdqv: .*fail/)
			bad_console = bad_console "# " l "\n"
	}
}

/tegra241_cmdqv_alloc / {
	fields()
	if (f["allocated"] + 0 == 1)
		owner[f["smmu"], f["vcmdq"] + 0] = f["vintf"] + 0
	else
		delete owner[f["smmu"], f["vcmdq"] + 0]
}

/tegra241_cmdqv_vintf_config / {
	fields()
	if (f["vintf"] + 0 == 0 && f["en"] + 0 == 1 && f["hyp_own"] + 0 == 1)
		up[f["smmu"]] = 1
	if (f["vintf"] + 0 == 0 && f["en"] + 0 == 0)
		delete up[f["smmu"]]
}

/tegra241_cmdqv_queue_error / {
	fields()
	qerr[f["smmu"], f["vintf"] + 0]++
	if (f["vintf"] + 0 == 0)
		note("VINTF0 error", $0)
}

/tegra241_cmdqv_cmd / {
	fields()
	s = f["smmu"]; v = f["vintf"] + 0; c = f["cmd"]
	sub(/^SMMU_CMD_/, "", c)
	cmds++
	pend[s] = ""
	if (v == 0) {
		if (f["hyp_own"] + 0 != 1 || f["refused"] + 0 != 0)
			note("VINTF0 not HYP_OWN or refused", $0)
		if (!((s, f["vcmdq"] + 0) in owner) || owner[s, f["vcmdq"] + 0] != 0)
			note("VCMDQ not allocated to VINTF0", $0)
		if (c ~ /^CFGI_/)
			ncfgi[s]++
		if (c ~ /^TLBI_/)
			ntlbi[s]++
	}
	if (v == 1) {
		if (f["hyp_own"] + 0 != 0)
			note("VINTF1 HYP_OWN", $0)
		if (f["refused"] + 0 == 1) {
			refused[s]++
			if (c != "CFGI_STE_RANGE" && c != "ATC_INV")
				note("refused " s, $0)
			next
		}
	}
	pend[s] = c; pvintf[s] = v
	next
}

/smmuv3_cmdq_exec / {
	fields()
	s = f["smmu"]; c = f["cmd"]
	sub(/^SMMU_CMD_/, "", c)
	via = pend[s] == c ? pvintf[s] : -1
	pend[s] = ""
	if (via == -1 && (s in up))
		note("own CMDQ after VINTF0 up " s, $0)
	if (via != 1)
		next
	if (c ~ /^TLBI_NH_/) {
		if (f["vmid"] + 0 == vmid1)
			nvmid[s, c]++
		else
			note("VMID " s, $0)
	}
	if (c == "ATC_INV") {
		if (f["sid"] + 0 == psid[s])
			natc[s]++
		else
			note("SID " s, $0)
	}
	if (c ~ /^CFGI_/)
		note("refused " s, $0)
}

END {
	print "TAP version 13"
	print "1..14"
	if (!cmds)
		print "# no tegra241_cmdqv_cmd event in the trace"
	tap(("NVDA200C:00" in found) && ("NVDA200C:01" in found) && bad_console == "",
	    "console: both SMMUs found their CMDQV (NVDA200C:00, :01), none fell back")
	printf "%s", bad_console
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		tap(s in up, s ": VINTF0 enabled with HYP_OWN=1")
		tap(ncfgi[s] > 0 && ntlbi[s] > 0 && !nd["VINTF0 not HYP_OWN or refused"] &&
		    !nd["VCMDQ not allocated to VINTF0"],
		    s ": host commands consumed from VINTF0 VCMDQs (CFGI_* " ncfgi[s] + 0 \
		    ", TLBI_* " ntlbi[s] + 0 ")",
		    "VINTF0 not HYP_OWN or refused|VCMDQ not allocated to VINTF0")
		tap(!nd["own CMDQ after VINTF0 up " s] && !qerr[s, 0],
		    s ": once VINTF0 was up, nothing reached the SMMU from its own CMDQ; no VINTF0 error",
		    "own CMDQ after VINTF0 up " s "|VINTF0 error")
		tap(nvmid[s, "TLBI_NH_ASID"] > 0 && nvmid[s, "TLBI_NH_VA"] > 0 && !nd["VMID " s],
		    s ": VINTF1 TLBI_NH_ASID/VA reached the SMMU with VINTF1 VMID " vmid1 \
		    " only, not the guest-written " guest_vmid, "VMID " s)
		tap(natc[s] > 0 && !nd["SID " s],
		    s ": VINTF1 ATC_INV reached the SMMU with pSID " psid[s] " only, not vSID " vsid,
		    "SID " s)
		tap(refused[s] == 3 && qerr[s, 1] == 3 && !nd["refused " s],
		    s ": VINTF1 refused CFGI_ALL and 2 unmatched ATC_INV (" refused[s] + 0 \
		    " refused, " qerr[s, 1] + 0 " queue errors), none reached the SMMU", "refused " s)
	}
	tap(!nd["VINTF1 HYP_OWN"], "no VINTF1 command ran as HYP_OWN", "VINTF1 HYP_OWN")
	exit failed > 0
}
AWK
}

# Synthetic traces for --self-test: a good one, and ways it can go wrong.
good_trace() {
	local s i
	for i in 0 1; do
		s=smmuv3.$i
		cat <<EOF
1@1.0:smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_CFGI_STE_RANGE sid=0 ssid=-1 vmid=-1 asid=-1 addr=0x0
1@1.0:tegra241_cmdqv_alloc smmu=$s vcmdq=0 allocated=1 vintf=0 lvcmdq=0
1@1.0:tegra241_cmdqv_alloc smmu=$s vcmdq=2 allocated=1 vintf=1 lvcmdq=0
1@1.0:tegra241_cmdqv_vintf_config smmu=$s vintf=0 en=1 hyp_own=1 vmid=0
1@1.0:tegra241_cmdqv_cmd smmu=$s vintf=0 vcmdq=0 lvcmdq=0 hyp_own=1 cmd=SMMU_CMD_CFGI_STE sid=8 vmid=-1 refused=0
1@1.0:smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_CFGI_STE sid=8 ssid=-1 vmid=-1 asid=-1 addr=0x0
1@1.0:tegra241_cmdqv_cmd smmu=$s vintf=0 vcmdq=0 lvcmdq=0 hyp_own=1 cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 vmid=0 refused=0
1@1.0:smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 ssid=-1 vmid=0 asid=1 addr=0x0
1@1.0:tegra241_cmdqv_cmd smmu=$s vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 vmid=119 refused=0
1@1.0:smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_ASID sid=-1 ssid=-1 vmid=119 asid=1 addr=0x0
1@1.0:tegra241_cmdqv_cmd smmu=$s vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_TLBI_NH_VA sid=-1 vmid=119 refused=0
1@1.0:smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_TLBI_NH_VA sid=-1 ssid=-1 vmid=119 asid=1 addr=0x7e57000
1@1.0:tegra241_cmdqv_cmd smmu=$s vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_ATC_INV sid=$((1792 + i)) vmid=-1 refused=0
1@1.0:smmuv3_cmdq_exec smmu=$s cmd=SMMU_CMD_ATC_INV sid=$((1792 + i)) ssid=-1 vmid=-1 asid=-1 addr=0x0
1@1.0:tegra241_cmdqv_cmd smmu=$s vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_CFGI_STE_RANGE sid=0 vmid=-1 refused=1
1@1.0:tegra241_cmdqv_queue_error smmu=$s vintf=1 vcmdq=2 lvcmdq=0 cons=0x1000004 err=1
1@1.0:tegra241_cmdqv_cmd smmu=$s vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_ATC_INV sid=67 vmid=-1 refused=1
1@1.0:tegra241_cmdqv_queue_error smmu=$s vintf=1 vcmdq=2 lvcmdq=0 cons=0x1000006 err=1
1@1.0:tegra241_cmdqv_cmd smmu=$s vintf=1 vcmdq=2 lvcmdq=0 hyp_own=0 cmd=SMMU_CMD_ATC_INV sid=66 vmid=-1 refused=1
1@1.0:tegra241_cmdqv_queue_error smmu=$s vintf=1 vcmdq=2 lvcmdq=0 cons=0x1000007 err=1
EOF
	done
}

self_test() {
	local tmp t=0 failed=0
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	printf '%s\n' "arm-smmu-v3 arm-smmu-v3.0.auto: found companion CMDQV device: NVDA200C:00" \
		"arm-smmu-v3 arm-smmu-v3.1.auto: found companion CMDQV device: NVDA200C:01" > "$tmp/console"
	good_trace > "$tmp/good"
	echo "TAP version 13"
	echo "1..6"
	expect() {	# expect pass|fail NAME [CONSOLE]: check $tmp/trace
		expect_check "$1" "$2" check "$tmp/trace" "${3:-$tmp/console}"
	}
	cp "$tmp/good" "$tmp/trace"
	expect pass "a trace of the expected commands passes"
	grep -v tegra241_cmdqv_ "$tmp/good" > "$tmp/trace"
	expect fail "a trace with no VCMDQ event fails"
	awk '!(/tegra241_cmdqv_cmd/ && /vintf=0/ && /smmuv3.1/)' "$tmp/good" > "$tmp/trace"
	expect fail "host commands on the SMMU's own CMDQ after VINTF0 came up fail"
	sed '/vintf=1.*TLBI_NH_ASID/{n;s/vmid=119/vmid=23130/}' "$tmp/good" > "$tmp/trace"
	expect fail "a guest TLBI that reached the SMMU with the guest's VMID fails"
	sed '/vintf=1.*CFGI_STE_RANGE.*refused=1/a 1@1.0:smmuv3_cmdq_exec smmu=smmuv3.0 cmd=SMMU_CMD_CFGI_STE_RANGE sid=0 ssid=-1 vmid=-1 asid=-1 addr=0x0' \
		"$tmp/good" | sed 's/\(vintf=1.*CFGI_STE_RANGE.*\)refused=1/\1refused=0/' > "$tmp/trace"
	expect fail "a CFGI_ALL from a guest VINTF that reached the SMMU fails"
	cp "$tmp/good" "$tmp/trace"
	grep -v NVDA200C:01 "$tmp/console" > "$tmp/console1"
	echo "arm-smmu-v3 arm-smmu-v3.1.auto: tegra241_cmdqv: Falling back to standard SMMU CMDQ" >> "$tmp/console1"
	expect fail "a console where one SMMU fell back to its own CMDQ fails" "$tmp/console1"
	return $failed
}

if [ "${1:-}" = --self-test ]; then
	. "$(dirname "$0")/selftest.sh"
	self_test
	exit
fi
check "${1:?usage: check-cmdqv.sh TRACEFILE CONSOLE | --self-test}" \
	"${2:?usage: check-cmdqv.sh TRACEFILE CONSOLE | --self-test}"
