# Count test results from the console logs of the test VMs.
#
#   awk -f results.awk PLAN1 LOG1 [PLAN2 LOG2 ...]
#
# Each plan (tests/*.plan) names the suites its boot must report: "kunit
# SUITE" lines (KUnit KTAP printed while the kernel boots) and "run NAME
# ..." lines (a program's TAP, framed by guest/init.c), and "host NAME ..."
# lines (a check run on the build machine after the VM, framed the same
# way by scripts/check.sh). Results:
#
#  - KUnit: each test case of a suite (the "ok"/"not ok" lines one level
#    below the suite) counts once; a parameterised case counts as one.
#    Every boot runs every built-in suite, so only the boots whose plan
#    names a suite count it.
#    Cases the suite's plan announced but that never reported (the kernel
#    crashed) count as failed.
#  - kselftest TAP: each "ok"/"not ok" line of the program's top level.
#    "# SKIP" counts as skipped, "# XFAIL" as passed. Tests the plan line
#    ("1..N") announced but that never reported count as failed, and so does
#    a program that exits non-zero with no failed test.
#  - Every VM boot adds a "console" suite with one test: the kernel log holds
#    no BUG, WARNING, Oops, KASAN, UBSAN, lockdep or kmemleak report. The
#    stack traces that fault injection prints by design are not reports
#    (their count is noted).
#  - A suite the plan names but that did not run counts as one failure.
#
# Prints a table, then the lines that tell why a suite failed (each "not
# ok" of a program with the two lines before it, and the first kernel
# reports; prefixed "! ", at most 40), then "N passed, N failed, N skipped";
# exits 1 on any failure.

# Suites are keyed "PLAN/NAME": two boots may run the same program.
function suite(name, plan,    k) {
	k = plan "/" name
	if (!(k in seen)) {
		order[++nsuites] = k
		seen[k] = 0
		where[k] = plan
		label[k] = name
	}
	return k
}

function result(name, line,    s) {
	s = line
	sub(/^[ \t]*/, "", s)
	if (s ~ /^not ok /) {
		if (s ~ /# *(TODO|todo)/)
			skip[name]++
		else
			fail[name]++
	} else if (s ~ /# *(SKIP|skip)/) {
		skip[name]++
	} else {
		pass[name]++
	}
	reported[name]++
}

# Why a suite failed, for the lines printed after the table.
function why(name, text) {
	if (nwhy < 40)
		whys[++nwhy] = "! " where[name] "/" label[name] ": " substr(text, 1, 150)
}

function note_add(name, text) {
	note[name] = note[name] (note[name] == "" ? "" : "; ") text
}

# A failure with no "not ok" line of its own: in the table and after it.
function explain(name, text) {
	note_add(name, text)
	why(name, text)
}

function plan_name(file,    n) {
	n = file
	sub(/.*\//, "", n)
	sub(/\.plan$/, "", n)
	return n
}

# A plan file: remember the suites it expects.
FILENAME ~ /\.plan$/ {
	if (FNR == 1) {
		cur_plan = plan_name(FILENAME)
		console = cur_plan "/console:" cur_plan
	}
	if ($1 == "topology" && $2 != "host") {
		suite("console:" cur_plan, cur_plan)
	} else if ($1 == "kunit") {
		declared[cur_plan, "kunit:" $2] = 1
		suite("kunit:" $2, cur_plan)
	} else if ($1 == "run" || $1 == "host") {
		suite($2, cur_plan)
	}
	next
}

# A console log.
FNR == 1 { ksuite = ""; prog = ""; step = 0 }

{
	line = $0
	sub(/\r$/, "", line)
	# Kernel reports that mean something went wrong in the kernel. Lines
	# starting with "#" are test diagnostics (TAP), never kernel output.
	if (line !~ /^[ \t]*#/ && line ~ /(^|[] ])(BUG:|WARNING:|Oops|Kernel panic|UBSAN:|KASAN:|kernel BUG at|general protection fault|INFO: possible (circular|recursive)|WARNING: possible|unreferenced object 0x)/) {
		if (splats[console]++ < 3) {
			note_add(console, substr(line, 1, 70))
			why(console, line)
		}
	}
	# Fault injection (fail_nth, failslab, fail_page_alloc) prints a
	# line and a stack trace per injected failure, and the allocation
	# failure it causes may print "page allocation failure" with another
	# stack: expected, not a splat, and nothing in them matches the
	# patterns above. They are counted so the table shows that fault
	# injection ran; a real report among them still fails the boot.
	if (line ~ /FAULT_INJECTION: forcing a failure/)
		faults[console]++
}

# Set-up steps of a plan ("do" lines) are not suites.
line ~ /^# viommu-step: / { step = 1; next }
line ~ /^# viommu-step-exit: / { step = 0; next }
step { next }

# guest/init.c frames each program's output.
line ~ /^# viommu-suite: / {
	name = line
	sub(/^# viommu-suite: /, "", name)
	prog = suite(name, cur_plan)
	progname = name
	seen[prog] = 1
	planned[prog] = -1
	next
}
line ~ /^# viommu-exit: / {
	split(line, f, " ")
	if (f[3] == progname)
		status[prog] = f[4]
	prog = ""
	next
}
prog != "" {
	if (line ~ /^1\.\.[0-9]+/ && planned[prog] < 0) {
		planned[prog] = substr(line, 4) + 0
	} else if (line ~ /^(not )?ok [0-9]+/) {
		if (line ~ /^not ok/ && line !~ /# *(TODO|todo)/) {
			if (prev2[prog] != "")
				why(prog, prev2[prog])
			if (prev1[prog] != "")
				why(prog, prev1[prog])
			why(prog, line)
		}
		result(prog, line)
	}
	prev2[prog] = prev1[prog]
	prev1[prog] = line
	next
}

# KUnit: "    # Subtest: SUITE" opens a suite one level below the top KTAP.
line ~ /^    # Subtest: / {
	ksuite = "kunit:" substr(line, 16)
	# Every boot runs every built-in suite: count a suite only in the
	# plans that name it.
	if (!((cur_plan, ksuite) in declared)) {
		ksuite = ""
		next
	}
	ksuite = suite(ksuite, cur_plan)
	seen[ksuite] = 1
	next
}
ksuite != "" && line ~ /^    1\.\.[0-9]+/ {
	planned[ksuite] = substr(line, 8) + 0
	next
}
ksuite != "" && line ~ /^    (not )?ok [0-9]+ / {
	if (line ~ /^    not ok/)
		why(ksuite, substr(line, 5))
	result(ksuite, line)
	next
}
ksuite != "" && line ~ /^(not )?ok [0-9]+ / {
	# The suite's own line: a failed suite without a failed case (its init
	# failed, say) still fails.
	if (line ~ /^not ok/ && !fail[ksuite]) {
		fail[ksuite]++
		explain(ksuite, "suite failed")
	}
	ksuite = ""
	next
}

END {
	for (i = 1; i <= nsuites; i++) {
		n = order[i]
		if (label[n] ~ /^console:/) {
			if (faults[n])
				note_add(n, faults[n] " injected faults")
			if (splats[n])
				fail[n]++
			else
				pass[n]++
			continue
		}
		if (!seen[n]) {
			fail[n]++
			explain(n, "did not run")
			continue
		}
		if (planned[n] > reported[n]) {
			fail[n] += planned[n] - reported[n]
			explain(n, (planned[n] - reported[n]) " planned test(s) never reported")
		}
		if (label[n] !~ /^kunit:/) {
			if (!(n in status)) {
				if (!fail[n])
					fail[n]++
				explain(n, "no exit status (the VM stopped)")
			} else if (status[n] != 0 && !fail[n] && !(status[n] == 4 && reported[n] == skip[n])) {
				fail[n]++
				explain(n, "exit status " status[n])
			}
		}
		if (!reported[n] && !fail[n]) {
			fail[n]++
			explain(n, "reported no result")
		}
	}

	printf "%-34s %-10s %6s %6s %6s  %s\n", "suite", "plan", "pass", "fail", "skip", "note"
	for (i = 1; i <= nsuites; i++) {
		n = order[i]
		printf "%-34s %-10s %6d %6d %6d  %s\n", label[n], where[n], pass[n], fail[n], skip[n], note[n]
		tp += pass[n]; tf += fail[n]; ts += skip[n]
	}
	for (i = 1; i <= nwhy; i++)
		print whys[i]
	printf "%d passed, %d failed, %d skipped\n", tp, tf, ts
	exit tf ? 1 : 0
}
