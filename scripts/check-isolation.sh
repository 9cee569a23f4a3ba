#!/bin/bash
# Check a QEMU trace of guest/isolation.c: two VMs (iommufd contexts) on
# SMMU 0 of the dual topology, A with the edu 0000:00:01.0 (StreamID 0x8),
# B with 0000:00:05.0 (StreamID 0x28). Each VM sends its invalidations
# between two marker commands, TLBI_NH_VA of
#
#   A: 0xa11a00000000 (open) .. 0xa11a00001000 (close)
#   B: 0xb11b00000000 (open) .. 0xb11b00001000 (close)
#
# and nothing else runs meanwhile, so every command smmuv3.0 consumed in a
# window is that VM's (or the CMD_SYNC the kernel adds). In A's windows
# every command carrying a VMID must carry one and the same VMID, every
# CFGI_* StreamID 0x8; in B's the same with 0x28; and A's VMID is not B's:
# an invalidation of one VM never carries the other's VMID or reaches the
# other's device, whatever VMIDs and vSIDs the guests wrote.
#
# Usage: scripts/check-isolation.sh TRACEFILE (smmuv3_cmdq_exec events).
# Prints TAP; exits non-zero if a test fails.
set -uo pipefail

trace=${1:?usage: check-isolation.sh TRACEFILE}
[ -r "$trace" ] || { echo "check-isolation.sh: cannot read $trace" >&2; exit 2; }

awk -f "$(dirname "$0")/tap.awk" -f - "$trace" <<'AWK'
BEGIN {
	opener["0xa11a00000000"] = "A"; closer["0xa11a00001000"] = "A"
	opener["0xb11b00000000"] = "B"; closer["0xb11b00001000"] = "B"
	psid["A"] = 8; psid["B"] = 40
	vm = ""
}
/smmuv3_cmdq_exec / {
	fields()
	if (f["smmu"] != "smmuv3.0")
		next
	c = f["cmd"]; sub(/^SMMU_CMD_/, "", c)
	a = tolower(f["addr"]); sid = f["sid"] + 0; vmid = f["vmid"] + 0
	line = sprintf("line %d: %s sid=%d vmid=%d addr=%s", FNR, c, sid, vmid, a)
	if (c == "TLBI_NH_VA" && (a in opener)) {
		if (vm != "")
			note("nest", line " opens a window inside " vm "'s")
		vm = opener[a]
		opened[vm]++
	}
	if (vm == "")
		next
	cmds[vm]++
	if (vmid >= 0) {
		if (!(vm in the_vmid))
			the_vmid[vm] = vmid
		else if (vmid != the_vmid[vm])
			note("vmid " vm, line " (first " the_vmid[vm] ")")
		if (vmid == 0)
			note("vmid " vm, line " (VMID 0 is the host's)")
	}
	if (c ~ /^CFGI_/) {
		ncfgi[vm]++
		if (sid != psid[vm])
			note("sid " vm, line)
	}
	if (c == "TLBI_NH_VA" && (a in closer)) {
		if (closer[a] != vm)
			note("nest", line " closes " closer[a] " inside " vm)
		else
			closed[vm]++
		vm = ""
	}
}
END {
	print "TAP version 13"
	print "1..6"
	tap(opened["A"] && closed["A"] && opened["B"] && closed["B"] && !nd["nest"],
	    "both VMs sent their commands in closed windows (A " cmds["A"] + 0 \
	    " commands, B " cmds["B"] + 0 ")", "nest")
	tap(("A" in the_vmid) && !nd["vmid A"], "every command of VM A carried A's VMID (" \
	    the_vmid["A"] ")", "vmid A")
	tap(("B" in the_vmid) && !nd["vmid B"], "every command of VM B carried B's VMID (" \
	    the_vmid["B"] ")", "vmid B")
	diag["differ"] = "# both VMs used VMID " the_vmid["A"] "\n"
	tap(("A" in the_vmid) && ("B" in the_vmid) && the_vmid["A"] != the_vmid["B"],
	    "the two VMs have different VMIDs on the shared SMMU", "differ")
	tap(ncfgi["A"] && !nd["sid A"], "every CFGI_* of VM A reached its device (StreamID 0x8) only",
	    "sid A")
	tap(ncfgi["B"] && !nd["sid B"], "every CFGI_* of VM B reached its device (StreamID 0x28) only",
	    "sid B")
	exit failed != 0
}
AWK
