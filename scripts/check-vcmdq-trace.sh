#!/bin/bash
# Check a QEMU trace of the VCMDQ tests (guest/e2e-nested/cmdqv.h, fixture vcmdq
# and vcmdq_two_vintfs, topology dual with a Tegra241 CMDQV on each SMMU)
# for what reached the SMMUs through the guest-owned VINTFs:
#
#  - each SMMU's CMDQV had a guest VINTF (HYP_OWN 0) enabled with a
#    non-zero VMID, and consumed the guest's TLBI_NH_VA from it;
#  - every command a guest VINTF let through is one a guest may issue
#    (TLBI_NH_ASID, TLBI_NH_VA, ATC_INV, CMD_SYNC), and carries that
#    VINTF's VMID and, for ATC_INV, the physical SID of the SMMU's edu
#    (0x8 on smmuv3.0, 0x900 on smmuv3.1), never a guest vSID;
#  - commands a guest may not issue were refused on each SMMU, and each
#    refusal raised a queue error;
#  - the kernel programmed a SID_MATCH/SID_REPLACE pair from the guest's
#    vSID to the physical SID on each SMMU, both for the vSIDs the tests
#    give with IOMMU_VIOMMU_SET_DEV_ID (0x42, 0x43) and for those they give
#    with IOMMU_VDEVICE_ALLOC (0x52, 0x53: the fixture variants *_vdevice
#    and QEMU's order).
#
# Usage: scripts/check-vcmdq-trace.sh TRACEFILE (QEMU's log trace backend,
# events tegra241_cmdqv_*). Prints TAP; exits non-zero if a test fails.
set -uo pipefail

trace=${1:?usage: check-vcmdq-trace.sh TRACEFILE}
[ -r "$trace" ] || { echo "check-vcmdq-trace.sh: cannot read $trace" >&2; exit 2; }

awk -f "$(dirname "$0")/tap.awk" -f - "$trace" <<'AWK'
BEGIN {
	smmus[1] = "smmuv3.0"; smmus[2] = "smmuv3.1"
	psid["smmuv3.0"] = 8; psid["smmuv3.1"] = 2304
	vsid["smmuv3.0"] = 66; vsid["smmuv3.1"] = 67
	vdev_vsid["smmuv3.0"] = 82; vdev_vsid["smmuv3.1"] = 83
	allowed["SMMU_CMD_TLBI_NH_ASID"] = 1; allowed["SMMU_CMD_TLBI_NH_VA"] = 1
	allowed["SMMU_CMD_ATC_INV"] = 1; allowed["SMMU_CMD_SYNC"] = 1
}

/tegra241_cmdqv_/ {
	fields()
	s = f["smmu"]
	line = sprintf("line %d: %s", FNR, $0)
	sub(/^[0-9]+@[0-9.]+:/, "", line)
}

/tegra241_cmdqv_vintf_config / {
	if (f["en"] == 1 && f["hyp_own"] == 0 && f["vmid"] > 0) {
		guest_vintf[s] = 1
		vmid_of[s, f["vintf"]] = f["vmid"]
	}
}

# A pair counts when its SID_MATCH is enabled while its SID_REPLACE (written
# first, as the kernel does) holds the physical SID.
/tegra241_cmdqv_sid_replace / {
	replace_psid[s, f["vintf"], f["slot"]] = f["psid"]
}

/tegra241_cmdqv_sid_match / {
	if (f["enable"] == 1 && replace_psid[s, f["vintf"], f["slot"]] == psid[s]) {
		if (f["vsid"] == vsid[s])
			pair[s] = 1
		if (f["vsid"] == vdev_vsid[s])
			vdev_pair[s] = 1
	}
}

/tegra241_cmdqv_cmd / {
	if (f["hyp_own"] != 0)
		next
	c = f["cmd"]
	if (f["refused"] == 1) {
		refused[s]++
		next
	}
	if (!(c in allowed))
		note("allow", line)
	if (c == "SMMU_CMD_TLBI_NH_VA")
		nva[s]++
	if (f["vmid"] >= 0 && f["vmid"] != vmid_of[s, f["vintf"]])
		note("vmid", line " (VINTF VMID " vmid_of[s, f["vintf"]] ")")
	if (c == "SMMU_CMD_ATC_INV") {
		natc[s]++
		if (f["sid"] != psid[s])
			note("sid", line)
	}
}

/tegra241_cmdqv_queue_error / {
	qerr[s]++
}

END {
	print "TAP version 13"
	print "1..13"
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		diag["guest " s] = "# no guest VINTF enabled, or no TLBI_NH_VA from one, on " s "\n"
		tap(guest_vintf[s] && nva[s] > 0, s ": a guest VINTF with its VMID consumed " \
		    nva[s] + 0 " guest TLBI_NH_VA", "guest " s)
	}
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		diag["pair " s] = "# no SID_MATCH " vsid[s] " / SID_REPLACE " psid[s] " pair on " s "\n"
		tap(pair[s], s ": SET_DEV_ID programmed vSID " vsid[s] " -> pSID " psid[s], \
		    "pair " s)
	}
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		diag["vdev pair " s] = "# no SID_MATCH " vdev_vsid[s] " / SID_REPLACE " psid[s] " pair on " s "\n"
		tap(vdev_pair[s], s ": VDEVICE_ALLOC programmed vSID " vdev_vsid[s] " -> pSID " psid[s], \
		    "vdev pair " s)
	}
	tap(!nd["allow"], "every command a guest VINTF let through is allowed for a guest", "allow")
	tap(!nd["vmid"], "every guest command carried its VINTF VMID", "vmid")
	tap(!nd["sid"], "every guest ATC_INV reached the SMMU with the physical SID", "sid")
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		diag["refused " s] = "# " refused[s] + 0 " refused, " qerr[s] + 0 " queue errors on " s "\n"
		tap(refused[s] > 0 && qerr[s] >= refused[s], s ": " refused[s] + 0 \
		    " forbidden guest commands refused, each with a queue error", "refused " s)
	}
	for (i = 1; i <= 2; i++) {
		s = smmus[i]
		diag["atc " s] = "# no accepted guest ATC_INV on " s "\n"
		tap(natc[s] > 0, s ": guest ATC_INV of a known vSID accepted (" natc[s] + 0 ")", "atc " s)
	}
	exit failed != 0
}
AWK
