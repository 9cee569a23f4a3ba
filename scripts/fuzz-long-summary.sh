#!/bin/bash
# The figures of a fuzz campaign (tests/fuzz-long.plan, make fuzz-long),
# read from the VM's console: per suite, the fuzzer's operations, guest
# commands, HW queues made, pages mapped and reports (its "# fuzz-viommu
# MODE: ..." line) or the race test's calls (its "ok N KIND: C calls"
# lines), then the total, which must reach MIN operations (default 10^6).
#
# Usage: scripts/fuzz-long-summary.sh CONSOLE [MIN]
# Prints TAP: one test per suite (it ran, did something, 0 reports), one
# for the total.
set -uo pipefail

log=${1:?usage: fuzz-long-summary.sh CONSOLE [MIN]}
min=${2:-1000000}
[ -r "$log" ] || { echo "fuzz-long-summary.sh: cannot read $log" >&2; exit 2; }

awk -v min="$min" -f "$(dirname "$0")/tap.awk" -f - "$log" <<'AWK'
# Numbers of "N word" pairs of a summary line: v["operations"] etc.
function counts(line,    i, nw, w) {
	delete v
	nw = split(line, w, /[ ,()]+/)
	for (i = 1; i < nw; i++)
		if (w[i] ~ /^[0-9]+$/ && !((w[i + 1]) in v))
			v[w[i + 1]] = w[i]
}
/^# viommu-suite: / { suite = $3 }
/^# fuzz-viommu [a-z]+: [0-9]+ operations/ && suite != "" {
	counts($0)
	if (!(suite in kind))
		order[ns++] = suite
	kind[suite] = "fuzz"
	ops[suite] = v["operations"]; cmds[suite] = v["guest"]
	hwq[suite] = v["HW"]; pages[suite] = v["pages"]; reps[suite] = v["reports"]
}
/^(not )?ok [0-9]+ [a-z-]+: [0-9]+ calls/ && suite ~ /^race/ {
	if ($1 == "not") {
		bad[suite]++
		$0 = substr($0, 5)
	}
	if (!(suite in kind))
		order[ns++] = suite
	kind[suite] = "race"
	calls[suite] += $4
}
END {
	print "TAP version 13"
	print "1.." ns + 1
	for (i = 0; i < ns; i++) {
		s = order[i]
		if (kind[s] == "fuzz") {
			total += ops[s]; fuzz += ops[s]; tcmds += cmds[s]
			tq += hwq[s]; tp += pages[s]; tr += reps[s]
			tap(ops[s] > 0 && reps[s] == 0,
			    sprintf("%s: %d operations, %d guest commands, %d HW queues, %d pages mapped, %d reports",
				    s, ops[s], cmds[s], hwq[s], pages[s], reps[s]))
		} else {
			total += calls[s]; race += calls[s]
			tap(calls[s] > 0 && !bad[s],
			    sprintf("%s: %d calls, %d thread kinds failed", s, calls[s], bad[s]))
		}
	}
	tap(total >= min,
	    sprintf("at least %d operations: %d (fuzzer %d, races %d), %d guest commands, %d HW queues, %d pages mapped, %d reports",
		    min, total, fuzz, race, tcmds, tq, tp, tr))
	exit failed > 0
}
AWK
