#!/bin/bash
# TAP self-test of scripts/results.awk: synthetic console logs, one per way
# a run can go wrong, each of which must be counted as such. Runs on the
# host (tests/harness.plan).
set -uo pipefail
. "$(dirname "$0")/common.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/t.plan" <<'PLAN'
topology single
kunit demo-suite
run prog /bin/prog
PLAN

# A clean boot: a KUnit suite of 3 cases (one parameterised) and a program
# with 3 tests, one skipped.
good() {
	cat <<'LOG'
KTAP version 1
1..1
    KTAP version 1
    # Subtest: demo-suite
    1..3
    ok 1 case_a
        KTAP version 1
        # Subtest: case_b
        ok 1 param-0
        ok 2 param-1
    ok 2 case_b
    ok 3 case_c
# demo-suite: pass:3 fail:0 skip:0 total:3
ok 1 demo-suite
Run /init as init process
# viommu-step: setup
ok 1 not-a-test
# viommu-step-exit: setup 0
# viommu-suite: prog
TAP version 13
1..3
ok 1 prog.one
ok 2 prog.two # SKIP no hardware
ok 3 prog.three
# viommu-exit: prog 0
# viommu-poweroff: 0
LOG
}

n=0 failed=0
check() { # NAME EXPECTED-LAST-LINE SED-SCRIPT
	local got
	n=$((n + 1))
	good | sed -e "$3" > "$tmp/$1.log"
	got=$(awk -f "$TOP/scripts/results.awk" "$tmp/t.plan" "$tmp/$1.log" | tail -n 1)
	if [ "$got" = "$2" ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		echo "# expected: $2"
		echo "#      got: $got"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..16"
check clean-run          "6 passed, 0 failed, 1 skipped" ''
check kunit-case-fails   "5 passed, 1 failed, 1 skipped" 's/^    ok 3 case_c/    not ok 3 case_c/'
check kunit-crash        "4 passed, 2 failed, 1 skipped" '/^    ok [23] case_/d'
check kunit-missing      "3 passed, 1 failed, 1 skipped" '/Subtest: demo-suite/d'
check prog-test-fails    "5 passed, 1 failed, 1 skipped" 's/^ok 3 prog.three/not ok 3 prog.three/'
check prog-crash         "5 passed, 2 failed, 0 skipped" '/^ok [23] prog/,$d'
check prog-exit-status   "6 passed, 1 failed, 1 skipped" 's/^# viommu-exit: prog 0/# viommu-exit: prog 1/'
check prog-missing       "4 passed, 1 failed, 0 skipped" '/^# viommu-suite: prog/,/^# viommu-exit/d'
check kernel-warning     "5 passed, 1 failed, 1 skipped" 's/^Run \/init as init process/WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0\n&/'
check kunit-undeclared   "3 passed, 1 failed, 1 skipped" 's/Subtest: demo-suite/Subtest: other-suite/'
check kmemleak-report    "5 passed, 1 failed, 1 skipped" 's/^# viommu-poweroff: 0/unreferenced object 0xffff0000 (size 64):\n&/'
# What failslab/fail_page_alloc print for each injected failure: not a
# report, but a real one right after it still is.
fault='s/^Run \/init as init process/FAULT_INJECTION: forcing a failure.\nname failslab, interval 1, probability 3, space 0, times -1\nCPU: 1 UID: 0 PID: 88 Comm: fuzz-viommu Not tainted 6.12.57 #1\nCall trace:\n show_stack+0x20\/0x38 (C)\n dump_stack_lvl+0x8c\/0xd0\n should_fail_ex+0x1f4\/0x240\n should_failslab+0xb0\/0x100\n __kmalloc_cache_noprof+0x7c\/0x3b0\n iommufd_viommu_alloc_ioctl+0x1c4\/0x440\nfuzz-viommu: page allocation failure: order:0, mode:0x400cc0(GFP_KERNEL_ACCOUNT), nodemask=(null)\n warn_alloc+0x11c\/0x1b0\n&/'
check fault-injection    "6 passed, 0 failed, 1 skipped" "$fault"
check fault-then-warning "5 passed, 1 failed, 1 skipped" "$fault;s/Run \/init as init process/WARNING: CPU: 1 PID: 88 at drivers\/iommu\/iommufd\/viommu.c:24 iommufd_viommu_destroy+0x5c\/0x90\n&/"
check fault-then-kasan   "5 passed, 1 failed, 1 skipped" "$fault;s/Run \/init as init process/BUG: KASAN: slab-use-after-free in iommufd_viommu_find_dev+0x2c\/0x70\n&/"

# Why a suite failed: the failing test with the lines before it, and the
# kernel's report, printed after the table ("! PLAN/SUITE: LINE").
why() { # NAME SED-SCRIPT EXPECTED-LINE...
	local name=$1 script=$2 want out
	shift 2
	n=$((n + 1))
	good | sed -e "$script" > "$tmp/$name.log"
	out=$(awk -f "$TOP/scripts/results.awk" "$tmp/t.plan" "$tmp/$name.log")
	for want in "$@"; do
		if ! grep -qxF -- "$want" <<< "$out"; then
			echo "not ok $n $name"
			echo "# missing: $want"
			failed=$((failed + 1))
			return
		fi
	done
	echo "ok $n $name"
}
why why-prog 's/^ok 3 prog.three/# REPORT seed=0x1 op=SET: expected EEXIST\nnot ok 3 prog.three/' \
	'! t/prog: ok 2 prog.two # SKIP no hardware' \
	'! t/prog: # REPORT seed=0x1 op=SET: expected EEXIST' \
	'! t/prog: not ok 3 prog.three'
why why-kernel 's/^Run \/init as init process/BUG: KASAN: slab-use-after-free in f+0x2c\/0x70\n&/' \
	'! t/console:t: BUG: KASAN: slab-use-after-free in f+0x2c/0x70'
[ $failed = 0 ]
