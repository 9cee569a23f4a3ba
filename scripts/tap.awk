# The TAP helpers of the trace checks (scripts/check-*.sh), loaded before
# each check's own program: awk -f scripts/tap.awk -f - TRACE <<'AWK' ...
#
#   fields()            f[NAME] = VALUE for each NAME=VALUE field of the
#                       current line (QEMU's log trace backend)
#   note(key, line)     a diagnostic of KEY: the first five are kept for
#                       the test that names KEY; nd[key] counts them all
#   tap(ok, what, keys) the next test, "ok N WHAT" or "not ok N WHAT"; a
#                       failed one prints the diagnostics of its KEYS (one
#                       key, or several joined by "|"), and counts in
#                       `failed`
function fields(   i, kv) {
	delete f
	for (i = 1; i <= NF; i++)
		if (split($i, kv, "=") == 2)
			f[kv[1]] = kv[2]
}

function note(key, line) {
	if (nd[key]++ < 5)
		diag[key] = diag[key] "# " line "\n"
}

function tap(ok, what, keys,    i, k, nk) {
	n++
	printf "%sok %d %s\n", ok ? "" : "not ", n, what
	if (ok)
		return
	failed++
	nk = split(keys, k, "|")
	for (i = 1; i <= nk; i++) {
		printf "%s", diag[k[i]]
		if (nd[k[i]] > 5)
			printf "# ... and %d more\n", nd[k[i]] - 5
	}
}
