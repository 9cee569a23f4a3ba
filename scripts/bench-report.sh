#!/bin/bash
# Turn the figures of `make bench` into docs/bench.json, the markdown table
# docs/bench.md (also copied into README.md between its bench table
# markers), and the plots docs/bench-trap.png, docs/bench-scale.png and
# docs/bench-realvmm.png. Prints TAP.
#
#   scripts/bench-report.sh [-o OUTDIR] CONSOLE_LOG...   (OUTDIR: docs/)
#
# The consoles are read for two kinds of lines: "# bench-json: " (the JSON
# of guest/bench/, tests/bench.plan: the outer VM's own /dev/iommu) and
# "# bench-realvmm-json: " (one JSON object a line, guest/bench-realvmm.c,
# tests/bench-realvmm.plan: the inner guest of Debian's QEMU 11.1). Either
# may be missing (its rows then say "not measured" and its plots are
# removed); a log that does not exist is skipped. With several logs holding
# the same kind, the last one's lines count.
#
# Targets are figures marked met/missed, never failed tests: a test fails
# only when figures are unreadable, a file cannot be written or a plot
# cannot be made.
set -euo pipefail
. "$(dirname "$0")/common.sh"

out=$TOP/docs
[ "${1:-}" = -o ] && { out=$2; shift 2; }
[ $# -gt 0 ] || die "usage: bench-report.sh [-o OUTDIR] CONSOLE_LOG..."
mkdir -p "$out"
json=$out/bench.json md=$out/bench.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"
echo "1..7"

# The last log holding each kind of line.
outer_log='' inner_log=''
for log in "$@"; do
	[ -f "$log" ] || { echo "# $log: no such file (skipped)"; continue; }
	grep -q '^# bench-json: ' "$log" && outer_log=$log
	grep -q '^# bench-realvmm-json: ' "$log" && inner_log=$log
done

rc=0
echo '{}' > "$tmp/outer.json"
if [ -z "$outer_log" ]; then
	echo "ok 1 outer figures (guest/bench/) # SKIP not in these consoles"
elif sed -n 's/^# bench-json: //p' "$outer_log" > "$tmp/outer.raw" &&
	jq 'if .targets then . else error("no targets") end' "$tmp/outer.raw" > "$tmp/outer.json" 2> /dev/null; then
	echo "ok 1 outer figures (guest/bench/): ${outer_log#"$TOP"/}"
else
	echo "not ok 1 outer figures: no valid JSON from guest/bench in $outer_log"
	echo '{}' > "$tmp/outer.json"
	rc=1
fi

# The inner figures: one object per line (a line cut by a kernel message
# is dropped), made into one object with the headline per vSMMU.
echo 'null' > "$tmp/inner.json"
if [ -z "$inner_log" ]; then
	echo "ok 2 inner figures (guest/bench-realvmm.c) # SKIP not in these consoles"
elif sed -n 's/^# bench-realvmm-json: //p' "$inner_log" |
	jq -R 'fromjson? // empty' | jq -s '
	map(select(.kind == "maploop")) as $m |
	(map(select(.kind == "host")) | last // {}) as $h |
	def best($r; $v): [$m[] | select(.run == $r and .vsmmu == $v and .ns != null)] | min_by(.ns);
	def bdf($v): $m | map(select(.vsmmu == $v)) | first | .bdf;
	if ($m | length) == 0 then error("no maploop figures") else . end |
	{
		kernel: $h.kernel,
		inner_kernel: (map(select(.kind == "guest")) | first | .kernel),
		host_edus: $h.edus,
		runs: (map(select(.kind == "run")) | map({run, tag, seconds, vsmmus})),
		guests: (map(select(.kind == "guest")) | map({run, path, cmdqvs, edus, reps})),
		sizes: ($m | map(.n) | unique),
		maploop: ($m | map({run, vsmmu, bdf, iommu, n, reps, chunks, ns, min_ns, max_ns})),
		per_vsmmu: ([0, 1] | map(. as $v |
			best("trapped"; $v) as $t | best("vcmdq"; $v) as $q |
			best("floor"; $v) as $f |
			{vsmmu: $v, bdf: bdf($v), host_bdf: ($h.edus // [])[$v],
			 trapped_ns: $t.ns, trapped_n: $t.n, vcmdq_ns: $q.ns,
			 vcmdq_n: $q.n, floor_ns: $f.ns, floor_n: $f.n} |
			.ratio = (if .trapped_ns and .vcmdq_ns then .vcmdq_ns / .trapped_ns else null end) |
			.ratio_above_floor = (if .trapped_ns and .vcmdq_ns and .floor_ns
				then (.vcmdq_ns - .floor_ns) / (.trapped_ns - .floor_ns) else null end)))
	}' > "$tmp/inner.json" 2> "$tmp/inner.err"; then
	echo "ok 2 inner figures (guest/bench-realvmm.c): ${inner_log#"$TOP"/}"
else
	echo "not ok 2 inner figures: no valid figures from guest/bench-realvmm in $inner_log"
	sed 's/^/# /' "$tmp/inner.err"
	echo 'null' > "$tmp/inner.json"
	rc=1
fi

# One JSON. The targets: guest/bench/'s, less the three "scale" ones an
# older bench.c still set (retired by issue 13; "lookup" replaces them and
# is worked out here from the scale and trap rows when missing), plus the
# real VMM's.
jq -n --slurpfile o "$tmp/outer.json" --slurpfile i "$tmp/inner.json" '
def status($v; $l): if $v == null then "not measured" elif $v <= $l then "met" else "missed" end;
def order: ["trap_floor", "batch_mock", "batch_smmu", "lookup", "vcmdq", "allocs", "realvmm_vcmdq"] as $o
	| .id as $id | ($o | index($id)) // 99;
$o[0] as $outer | $i[0] as $inner |
$outer | .realvmm = $inner |
.targets = (
	((.targets // []) | map(select(.id | IN("scale", "scale_1k", "scale_all") | not))) +
	(if (.targets // []) | (length == 0 or (map(.id) | index("lookup"))) then [] else
		([(.scale // [])[] | select(.vid == 65543) | .per_cmd_ratio_to_floor] | max) as $c |
		([(.trap // [])[] | select(.backend == "mock" and .batch == 1) | .ratio_to_floor] | first) as $b |
		(if $c and $b then $c / $b else null end) as $v |
		[{id: "lookup", what: "lookup at 65536 IDs (ID 65543): per-command cost at batch 512, its upper bound, / a batch-1 trapped command (mock)",
		  value: $v, limit: 0.1, status: status($v; 0.1)}] end) +
	((if $inner then [$inner.per_vsmmu[].ratio] else [] end) as $rs |
	 (if ($rs | length) > 0 and ($rs | all(. != null)) then ($rs | max) else null end) as $v |
	 [{id: "realvmm_vcmdq",
	   what: "real VMM, inner guest: map + unmap with VCMDQ (cmdqv=on) / trapped (cmdqv=off), each at its lowest median over N, the worse vSMMU",
	   value: $v, limit: 0.2, status: status($v; 0.2)}])
	| sort_by(order))
' > "$tmp/bench.json"
jq . "$tmp/bench.json" > "$json"

# The table. Outer ratios as guest/bench/ gives them; inner times in us.
if jq -r '
def r: if . == null then "–" elif . >= 100 then (. * 1 | round | tostring)
	elif . >= 1 then ((. * 100 | round) / 100 | tostring)
	else ((. * 10000 | round) / 10000 | tostring) end;
def us: if . == null then "–" elif . < 1000 then "\(. | round) ns" else "\(. / 1000 | r) us" end;
def cmp: if .status == "pending (issue 5)" then "–" else "≤ \(.limit | r)" end;
def pathname: {trapped: "trapped (cmdqv=off)", vcmdq: "VCMDQ (cmdqv=on)", floor: "floor (no vSMMU)"}[.];
(if .floor then
"Outer rows (the VM'"'"'s own /dev/iommu) are ratios to a null ioctl on /dev/iommu",
"(IOMMU_OPTION get) timed in the same run, interleaved with it (\(.reps) repetitions",
"of \(.chunks) x \(.chunk_ms) ms, medians). Kernel \(.kernel), QEMU TCG; the null",
"ioctl took \(.floor.ns | round) ns there."
else "Outer rows (guest/bench/): not measured in this run." end),
"",
(if .realvmm then
"Real-VMM rows are times in the inner guest of Debian'"'"'s QEMU 11.1 (KVM in the",
"TCG VM; kernel \(.realvmm.inner_kernel)), the same guest and edus in three QEMU runs,",
"medians of \(.realvmm.guests[0].reps) repetitions each keeping its fastest call."
else "Real-VMM rows (guest/bench-realvmm.c): not measured in this run." end),
"",
"| target | figure | limit | status |",
"|---|---|---|---|",
(.targets[] | "| \(.what) | \(.value | r) | \(cmp) | \(.status) |"),
(if .realvmm then
	.realvmm as $rv |
	"",
	"**The real VMM: the inner guest'"'"'s DMA map + unmap** (Debian'"'"'s QEMU 11.1 with",
	"`arm-smmuv3,accel=on`, one vSMMU per SMMU; the guest'"'"'s DMA API with strict",
	"invalidation, so each unmap is a TLBI + CMD_SYNC of its own arm-smmu-v3",
	"driver): time per dma_map_single + dma_unmap_single of 4 KiB, each path'"'"'s",
	"lowest median over the N pairs per call (that N in brackets):",
	"",
	"| vSMMU: guest edu (host edu) | trapped (cmdqv=off) | VCMDQ (cmdqv=on) | floor (no vSMMU) | VCMDQ / trapped | (VCMDQ − floor) / (trapped − floor) |",
	"|---|---|---|---|---|---|",
	($rv.per_vsmmu[] | "| \(.vsmmu): \(.bdf // "–") (\(.host_bdf // "–")) | \(.trapped_ns | us) (\(.trapped_n)) | \(.vcmdq_ns | us) (\(.vcmdq_n)) | \(.floor_ns | us) (\(.floor_n)) | \(.ratio | r) | \(.ratio_above_floor | r) |"),
	"",
	"Time per map + unmap by pairs per call (N), medians (fastest and slowest",
	"repetition in docs/bench.json):",
	"",
	"| path | vSMMU | \($rv.sizes | map("N = \(.)") | join(" | ")) |",
	"|---|---|\($rv.sizes | map("---|") | join(""))",
	(["trapped", "vcmdq", "floor"][] as $p | [0, 1][] as $v |
		"| \($p | pathname) | \($v) | \([$rv.sizes[] as $n | [$rv.maploop[] | select(.run == $p and .vsmmu == $v and .n == $n) | .ns] | first | us] | join(" | ")) |"),
	([0, 1][] as $v |
		"| VCMDQ / trapped | \($v) | \([$rv.sizes[] as $n | [$rv.maploop[] | select(.vsmmu == $v and .n == $n)] |
			(map(select(.run == "vcmdq")) | first | .ns) as $q | (map(select(.run == "trapped")) | first | .ns) as $t |
			if $q and $t then $q / $t else null end | r] | join(" | ")) |"),
	"",
	"QEMU runs (inner boot, figures, power-off): \($rv.runs | map("\(.tag) \(.seconds) s") | join(", "))."
 else empty end),
(if .trap then
"",
"**Invalidation (IOMMU_HWPT_INVALIDATE through a vIOMMU)**, time per call",
"and per command as multiples of the null ioctl:",
"",
"| path | batch | per call | per command |",
"|---|---|---|---|",
"| null ioctl (IOMMU_OPTION get) | – | 1 | – |",
(.trap[] | "| \(.backend) | \(.batch) | \(.ratio_to_floor | r) | \(.per_cmd_ratio_to_floor | r) |"),
((.trap_parts // [])[] | "| mock, batch 1, in parts: \(.part) | 1 | \(.ratio_to_floor | r) | – |"),
(if .vcmdq.status then
	"| VCMDQ vs ioctl: TLBI_NH_VA + CMD_SYNC (dual) | 1 | \(.vcmdq.status) | |"
 else
	"| SMMUv3 ioctl: TLBI_NH_VA (+ CMD_SYNC by the kernel) | 1 | \(.vcmdq.ioctl_ratio_to_floor | r) | \(.vcmdq.ioctl_ratio_to_floor | r) |",
	"| VCMDQ: TLBI_NH_VA + CMD_SYNC, PROD write + CONS poll, no ioctl | 1 | \(.vcmdq.ratio_to_floor | r) | \(.vcmdq.ratio_to_ioctl | r) x the ioctl |"
 end),
(if .onevsmmu == null then empty
 elif .onevsmmu.status then
	"| one vSMMU over 2 SMMUs vs one per SMMU: TLBI_NH_VA + CMD_SYNC (dual) | 1 | \(.onevsmmu.status) | |"
 else
	"| one vSMMU per SMMU: a guest TLBI_NH_VA + CMD_SYNC, trapped, 1 call | 1 | \(.onevsmmu.per_smmu_ratio_to_floor | r) | \(.onevsmmu.per_smmu_ratio_to_floor | r) |",
	"| one vSMMU over 2 SMMUs (lib/vsmmu1): the same, broadcast, 2 calls | 1 | \(.onevsmmu.one_vsmmu_ratio_to_floor | r) | \(.onevsmmu.one_vsmmu_to_per_smmu | r) x one per SMMU |",
	"| lib/vsmmu1 over 1 vIOMMU alone: the cost of the layer | 1 | \(.onevsmmu.layer_1_ratio_to_floor | r) | \(.onevsmmu.layer_1_to_per_smmu | r) x one per SMMU |"
 end),
"",
"**Scale** (mock, batch \(.scale[0].batch); measurements, no target): per-command",
"cost with N virtual IDs set on one vIOMMU, the commands naming M of them:",
"",
"| IDs set (N) | IDs named (M) | per command | vs N = M = 1 | / batch-1 trapped command (mock) |",
"|---|---|---|---|---|",
((.trap[] | select(.backend == "mock" and .batch == 1) | .ratio_to_floor) as $b1 |
 .scale[0].ratio_to_floor as $one | .scale[] |
	"| \(.ids) | \(if .vid then "1 (ID \(.vid))" else .named end) | \(.per_cmd_ratio_to_floor | r) | \(if $one and .ratio_to_floor then .ratio_to_floor / $one else null end | r) | \(if $b1 and .per_cmd_ratio_to_floor then .per_cmd_ratio_to_floor / $b1 else null end | r) |"),
"",
"**Set-up and memory**:",
"",
"| what | figure |",
"|---|---|",
"| SET_DEV_ID, per ID, \(.setup.ids) IDs | \(.setup.set_ratio_to_floor | r) x null ioctl |",
"| UNSET_DEV_ID, per ID, \(.setup.ids) IDs | \(.setup.unset_ratio_to_floor | r) x null ioctl |",
"| slab per vIOMMU (mock; \(.memory.viommus) allocated) | \(.memory.slab_per_viommu) B |",
"| slab per virtual ID (\(.memory.ids) set) | \(.memory.slab_per_id) B (\(.memory.id_caches | to_entries | map("\(.key) \(.value)") | join(", "))) |",
"| a mock device (IOMMU_TEST_OP_MOCK_DOMAIN; \(.memory.mock_devices) made) | \(.memory.mem_per_mock_device) B, \(.memory.ns_per_mock_device / 1000 | round) us |",
"",
"**Heap allocations per call** (SLUB_STATS alloc_fastpath + alloc_slowpath",
"of every cache, and pgalloc_* of /proc/vmstat, over \(.allocs.calls) calls):",
"",
"| call | slab | pages |",
"|---|---|---|",
"| null ioctl | \(.allocs.null.slab) | \(.allocs.null.pages) |",
"| control: IOAS alloc + destroy | \(.allocs.control_ioas_alloc_destroy.slab) | \(.allocs.control_ioas_alloc_destroy.pages) |",
(.allocs.invalidate[] | "| \(.backend) invalidation, batch \(.batch) | \(.slab) | \(.pages) |")
 else empty end)
' "$json" > "$md.tmp" 2> "$tmp/md.err" && mv "$md.tmp" "$md"; then
	echo "ok 3 table: ${md#"$TOP"/}"
else
	echo "not ok 3 table:"; sed 's/^/# /' "$tmp/md.err"
	rm -f "$md.tmp"
	rc=1
fi

# README.md shows docs/bench.md between its markers (only for docs/ itself).
# shellcheck disable=SC2016 # the marker names `make bench`
start='<!-- bench table: docs/bench.md as `make bench` wrote it -->'
end='<!-- end of bench table -->'
readme=$TOP/README.md
if [ "$(cd "$out" && pwd)" != "$TOP/docs" ]; then
	echo "ok 4 README table # SKIP OUTDIR is not docs/"
elif [ ! -s "$md" ] || ! grep -qxF "$start" "$readme" || ! grep -qxF "$end" "$readme"; then
	echo "not ok 4 README table: no table, or README.md lacks its markers"
	rc=1
elif awk -v start="$start" -v end="$end" -v md="$md" '
	$0 == start { print; while ((getline l < md) > 0) print l; skip = 1; next }
	$0 == end { skip = 0 }
	!skip' "$readme" > "$readme.bench-tmp" && mv "$readme.bench-tmp" "$readme"; then
	echo "ok 4 README table: between its markers"
else
	rm -f "$readme.bench-tmp"
	echo "not ok 4 README table: cannot write README.md"
	rc=1
fi

# gnuplot takes its data inline.
plot() {
	local name=$1 script=$2
	if gnuplot <<< "$script" > "$out/$name.log" 2>&1 && [ -s "$out/$name.png" ]; then
		rm -f "$out/$name.log"
		echo "ok $3 plot: ${out#"$TOP"/}/$name.png"
	else
		echo "not ok $3 plot $name:"; sed 's/^/# /' "$out/$name.log"
		return 1
	fi
}
# A plot of figures this run did not make would be stale: removed.
noplot() {
	rm -f "$out/$1.png"
	echo "ok $2 plot $1 # SKIP $3 not measured"
}
common="set terminal pngcairo size 800,500 font 'sans,10'
set logscale x 2
set logscale y
set grid
set key top right"
if jq -e '.trap' "$json" > /dev/null; then
	plot bench-trap "$common
set output '$out/bench-trap.png'
set title 'Guest TLB invalidation through a vIOMMU: cost per command'
set xlabel 'commands per IOMMU_HWPT_INVALIDATE'
set ylabel 'time per command / null ioctl'
\$mock << EOD
$(jq -r '.trap[] | select(.backend == "mock") | "\(.batch) \(.per_cmd_ratio_to_floor)"' "$json")
EOD
\$smmu << EOD
$(jq -r '.trap[] | select(.backend == "smmuv3") | "\(.batch) \(.per_cmd_ratio_to_floor)"' "$json")
EOD
plot \$mock with linespoints lw 2 title 'mock vIOMMU', \
     \$smmu with linespoints lw 2 title 'SMMUv3 (QEMU)', \
     1 with lines dt 2 title 'null ioctl'" 5 || rc=1
	plot bench-scale "$common
set output '$out/bench-scale.png'
set title 'Mock vIOMMU, batch of 512: cost per command by virtual IDs set'
set xlabel 'virtual IDs set on the vIOMMU'
set ylabel 'time per command / null ioctl'
set yrange [*:*]
\$one << EOD
$(jq -r '.scale[] | select(.named == 1 and .vid == .ids + 7) | "\(.ids) \(.per_cmd_ratio_to_floor)"' "$json")
EOD
\$k << EOD
$(jq -r '.scale[] | select(.named == 1024) | "\(.ids) \(.per_cmd_ratio_to_floor)"' "$json")
EOD
\$all << EOD
$(jq -r '.scale[] | select(.named == .ids) | "\(.ids) \(.per_cmd_ratio_to_floor)"' "$json")
EOD
plot \$one with linespoints lw 2 title 'commands name 1 ID', \
     \$k with linespoints lw 2 title 'commands name 1024 IDs', \
     \$all with linespoints lw 2 title 'commands name every ID'" 6 || rc=1
else
	noplot bench-trap 5 "outer figures"
	noplot bench-scale 6 "outer figures"
fi
# Per map + unmap against N, in us: each path and vSMMU a line.
series() {
	jq -r --arg p "$1" --argjson v "$2" \
		'.realvmm.maploop[] | select(.run == $p and .vsmmu == $v) | "\(.n) \(.ns / 1000)"' "$json"
}
if jq -e '.realvmm' "$json" > /dev/null; then
	plot bench-realvmm "$common
set output '$out/bench-realvmm.png'
set title \"Real VMM (QEMU 11.1): the inner guest's dma_map_single + dma_unmap_single of 4 KiB\" noenhanced
set xlabel 'map + unmap pairs per call (N)'
set ylabel 'time per map + unmap (us)'
set key outside right
\$t0 << EOD
$(series trapped 0)
EOD
\$t1 << EOD
$(series trapped 1)
EOD
\$q0 << EOD
$(series vcmdq 0)
EOD
\$q1 << EOD
$(series vcmdq 1)
EOD
\$f0 << EOD
$(series floor 0)
EOD
\$f1 << EOD
$(series floor 1)
EOD
plot \$t0 with linespoints lw 2 lc rgb '#c0392b' pt 7 title 'trapped, vSMMU 0', \
     \$t1 with linespoints lw 2 lc rgb '#e67e22' pt 5 dt 2 title 'trapped, vSMMU 1', \
     \$q0 with linespoints lw 2 lc rgb '#1e8449' pt 7 title 'VCMDQ, vSMMU 0', \
     \$q1 with linespoints lw 2 lc rgb '#27ae60' pt 5 dt 2 title 'VCMDQ, vSMMU 1', \
     \$f0 with linespoints lw 1 lc rgb '#7f8c8d' pt 6 title 'floor (no vSMMU), edu 0', \
     \$f1 with linespoints lw 1 lc rgb '#95a5a6' pt 4 dt 2 title 'floor (no vSMMU), edu 1'" 7 || rc=1
else
	noplot bench-realvmm 7 "real-VMM figures"
fi
exit $rc
