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

awk -f "$(dirname "$0")/tap.awk" -f - "$trace" <<'AWK'
/smmuv3_cmdq_exec / { cmds++ }
/smmuv3_cmdq_consume_error/ { note("cerror", $0) }
/smmuv3_write_gerror/ { note("gerror", $0) }
END {
	print "TAP version 13"
	print "1..3"
	tap(cmds, "the trace holds consumed commands (" cmds + 0 ")")
	tap(!nd["cerror"], "no command error on any SMMU command queue (" nd["cerror"] + 0 ")", "cerror")
	tap(!nd["gerror"], "no SMMU global error (" nd["gerror"] + 0 ")", "gerror")
	exit failed > 0
}
AWK
