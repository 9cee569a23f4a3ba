#!/bin/bash
# Check a QEMU trace for SMMU command queue errors: no command the kernel
# put on a physical queue may have been refused (CERROR_ILL and the other
# command errors: smmuv3_cmdq_consume_error), and no SMMU may have raised a
# global error (smmuv3_write_gerror). Used after the fuzzer, which hands
# the kernel every kind of guest command: an illegal one reaching the
# queue shows here.
#
# Usage: scripts/check-cmdq-errors.sh TRACEFILE
#
# TRACEFILE holds the events smmuv3_cmdq_exec, smmuv3_cmdq_consume_error
# and smmuv3_write_gerror (log backend). Prints TAP.
set -uo pipefail

trace=${1:?usage: check-cmdq-errors.sh TRACEFILE}
[ -r "$trace" ] || { echo "check-cmdq-errors.sh: cannot read $trace" >&2; exit 2; }

awk '
/smmuv3_cmdq_exec / { cmds++ }
/smmuv3_cmdq_consume_error/ { if (nerr++ < 5) err = err "# " $0 "\n" }
/smmuv3_write_gerror/ { if (nge++ < 5) ge = ge "# " $0 "\n" }
END {
	print "TAP version 13"
	print "1..3"
	printf "%sok 1 the trace holds consumed commands (%d)\n", cmds ? "" : "not ", cmds
	printf "%sok 2 no command error on any SMMU command queue (%d)\n", nerr ? "not " : "", nerr
	printf "%s", err
	printf "%sok 3 no SMMU global error (%d)\n", nge ? "not " : "", nge
	printf "%s", ge
	exit !cmds || nerr || nge
}
' "$trace"
