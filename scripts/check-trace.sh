#!/bin/bash
# Check a QEMU trace of tests/nested.plan (topology dual) for what the
# vIOMMUs put on the physical SMMUs' command queues: every command the
# guest issued through a vIOMMU must reach the SMMU of its device, carry
# the physical StreamID and not the guest's virtual one, and the VMID of
# that SMMU's vIOMMU whatever VMID the guest wrote.
#
# Usage: scripts/check-trace.sh TRACEFILE
#
# TRACEFILE holds QEMU's smmuv3_cmdq_exec events (scripts/vm.sh -T
# smmuv3_cmdq_exec -o TRACEFILE), one per consumed command, in the log
# backend's format, with or without the "PID@TIME:" prefix:
#
#   1234@1700000000.000001:smmuv3_cmdq_exec smmu=smmuv3.1 cmd=SMMU_CMD_CFGI_CD
#     sid=2304 ssid=0 vmid=-1 asid=-1 addr=0x0
#
# Numbers are decimal; a field the command does not carry is -1. Other
# lines are ignored. Prints TAP; exits non-zero if a test fails.
#
# Boot and VM phase. Until a VMM exists, the kernel drives the SMMUs for
# itself: at probe, CFGI_ALL (CFGI_STE_RANGE with StreamID 0) and
# TLBI_NSNH_ALL, then one DMA domain per device (the edus and, on
# smmuv3.1, the root port 0000:08:00.0, StreamID 0x800), i.e. CFGI_STE,
# CFGI_CD, and a TLBI_NH_ASID with VMID 0, which Linux uses for its own
# stage-1 domains. The VM phase of an SMMU starts with its first command
# that carries a non-zero VMID: that is the VMM's stage 2, which the
# vIOMMU's invalidations are tagged with. From then on:
#
#   smmuv3.0  CFGI_* carry 0x8 (edu 0000:00:01.0) or 0x28 (the second edu
#             behind it, 0000:00:05.0, which only the VCMDQ SID pair test
#             binds to an iommufd: the kernel's own CFGIs of its attach)
#   smmuv3.1  CFGI_* carry 0x900 (edu 0000:09:00.0) only
#   both      every command carrying a VMID carries a non-zero one: the
#             nesting parent's (stage-2 invalidations) or one of its
#             vIOMMUs' (each vIOMMU has a VMID of its own: the guest's
#             commands, and the stage-2 invalidations that must reach it)
#
# and during boot CFGI_* also carry 0 (CFGI_ALL) on both and 0x800 on
# smmuv3.1. Each SMMU must also have received a TLBI_NH_VA for the guest VA
# that guest/e2e-nested/ remaps (VA_DST, 0x123400200000): nothing but a
# guest command through that SMMU's vIOMMU invalidates that address. The
# guest's vSIDs (0x42, 0x43 given by IOMMU_VIOMMU_SET_DEV_ID, 0x52, 0x53 by
# IOMMU_VDEVICE_ALLOC) and the VMID the guest writes into a TLBI_NH_ASID
# (0x5a5a, guest/e2e-nested/) must never show up.
set -uo pipefail

trace=${1:?usage: check-trace.sh TRACEFILE}
[ -r "$trace" ] || { echo "check-trace.sh: cannot read $trace" >&2; exit 2; }

awk -f "$(dirname "$0")/tap.awk" -f - "$trace" <<'AWK'
BEGIN {
	smmus[1] = "smmuv3.0"; smmus[2] = "smmuv3.1"
	# SIDs allowed in CFGI_* always, and only during boot (decimal).
	psid["smmuv3.0"] = 8;    boot["smmuv3.0", 0] = 1
	psid2["smmuv3.0"] = 40
	psid["smmuv3.1"] = 2304; boot["smmuv3.1", 0] = 1
	boot["smmuv3.1", 2048] = 1
	vsid[66] = 1; vsid[67] = 1; vsid[82] = 1; vsid[83] = 1
	guest_vmid = 23130	# 0x5a5a
	guest_va = "0x123400200000"
}

/smmuv3_cmdq_exec / {
	fields()
	s = f["smmu"]; c = f["cmd"]; sid = f["sid"] + 0; vmid = f["vmid"] + 0
	sub(/^SMMU_CMD_/, "", c)
	line = sprintf("line %d: %s %s sid=%s vmid=%s", FNR, s, c,
		       sid < 0 ? "-" : sprintf("0x%x", sid),
		       vmid < 0 ? "-" : sprintf("0x%x", vmid))
	events++

	if (!(s in psid)) {
		other[s]++
		next
	}
	if (vmid > 0)
		vm[s] = 1

	if (sid in vsid)
		note("vsid", line)
	if (vmid == guest_vmid)
		note("gvmid", line)

	if (c ~ /^CFGI_/ && sid != psid[s] && !((s in psid2) && sid == psid2[s]) &&
	    !(!vm[s] && ((s, sid) in boot)))
		note("sid " s, line)

	if (!vm[s])
		next
	if (c == "CFGI_CD" || c == "CFGI_CD_ALL")
		ncd[s]++
	if (c ~ /^TLBI_NH_/)
		nnh[s]++
	if (c == "TLBI_NH_VA" && tolower(f["addr"]) == guest_va)
		nva[s]++
	if (vmid < 0)
		next
	if (!((s, vmid) in seen)) {
		seen[s, vmid] = 1
		vmids[s] = vmids[s] (vmids[s] == "" ? "" : ", ") vmid
	}
	if (vmid == 0)
		note("vmid " s, line)
}

END {
	print "TAP version 13"
	print "1..8"
	if (!events)
		print "# no smmuv3_cmdq_exec event in the trace"
	for (s in other)
		printf "# %d commands on %s, which this check does not know\n",
		       other[s], s
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		if (!vm[s])
			diag["phase " s] = "# no command with a non-zero VMID on " s "\n"
		if (vm[s] && !nva[s])
			diag["phase " s] = "# no TLBI_NH_VA of " guest_va " on " s "\n"
		tap(ncd[s] > 0 && nnh[s] > 0 && nva[s] > 0,
		    s " consumed vIOMMU commands (CFGI_CD " ncd[s] + 0 \
		    ", TLBI_NH_* " nnh[s] + 0 ", TLBI_NH_VA of the guest VA " \
		    nva[s] + 0 ")", "phase " s)
	}
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		tap(!nd["sid " s], "every CFGI_* on " s " carried its physical SID",
		    "sid " s)
	}
	tap(!nd["vsid"], "no command carried a guest vSID (0x42, 0x43, 0x52, 0x53)", "vsid")
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		tap(!nd["vmid " s] && vmids[s] != "",
		    "every TLBI on " s " in the VM phase carried a non-zero VMID (" \
		    (vmids[s] != "" ? vmids[s] : "none") ")", "vmid " s)
	}
	tap(!nd["gvmid"], "the guest-written VMID 0x5a5a never reached an SMMU",
	    "gvmid")
	exit failed != 0
}
AWK
