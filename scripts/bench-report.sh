#!/bin/bash
# Turn the figures guest/bench.c printed on the console ("# bench-json: "
# lines) into docs/bench.json, the markdown table docs/bench.md and the
# plots docs/bench-trap.png and docs/bench-scale.png. Prints TAP.
#
#   scripts/bench-report.sh CONSOLE_LOG [OUTDIR]   (OUTDIR: default docs/)
set -euo pipefail
. "$(dirname "$0")/common.sh"

log=${1:?usage: bench-report.sh CONSOLE_LOG [OUTDIR]} out=${2:-$TOP/docs}
mkdir -p "$out"
json=$out/bench.json md=$out/bench.md
echo "TAP version 13"
echo "1..4"

sed -n 's/^# bench-json: //p' "$log" > "$json.tmp"
if [ -s "$json.tmp" ] && jq -e .targets "$json.tmp" > /dev/null; then
	jq . "$json.tmp" > "$json" && rm -f "$json.tmp"
	echo "ok 1 figures: ${json#"$TOP"/}"
else
	echo "not ok 1 figures: no valid JSON from guest/bench in $log"
	rm -f "$json.tmp"
	exit 1
fi

# Ratios as the table prints them.
jq -r '
def r: if . == null then "–" elif . >= 100 then (. * 1 | round | tostring)
	elif . >= 1 then ((. * 100 | round) / 100 | tostring)
	else ((. * 10000 | round) / 10000 | tostring) end;
def cmp: if .status == "pending (issue 5)" then "–" else "≤ \(.limit | r)" end;
"All figures are ratios to a null ioctl on /dev/iommu (IOMMU_OPTION get) timed",
"in the same run, interleaved with it (\(.reps) repetitions of \(.chunks) x",
"\(.chunk_ms) ms, medians). Kernel \(.kernel), QEMU TCG; the null ioctl took",
"\(.floor.ns | round) ns there.",
"",
"| target | figure | limit | status |",
"|---|---|---|---|",
(.targets[] | "| \(.what) | \(.value | r) | \(cmp) | \(.status) |"),
"",
"**Invalidation (IOMMU_HWPT_INVALIDATE through a vIOMMU)**, time per call",
"and per command as multiples of the null ioctl:",
"",
"| path | batch | per call | per command |",
"|---|---|---|---|",
"| null ioctl (IOMMU_OPTION get) | – | 1 | – |",
(.trap[] | "| \(.backend) | \(.batch) | \(.ratio_to_floor | r) | \(.per_cmd_ratio_to_floor | r) |"),
(if .vcmdq.status then
	"| VCMDQ vs ioctl: TLBI_NH_VA + CMD_SYNC (dual) | 1 | \(.vcmdq.status) | |"
 else
	"| SMMUv3 ioctl: TLBI_NH_VA (+ CMD_SYNC by the kernel) | 1 | \(.vcmdq.ioctl_ratio_to_floor | r) | \(.vcmdq.ioctl_ratio_to_floor | r) |",
	"| VCMDQ: TLBI_NH_VA + CMD_SYNC, PROD write + CONS poll, no ioctl | 1 | \(.vcmdq.ratio_to_floor | r) | \(.vcmdq.ratio_to_ioctl | r) x the ioctl |"
 end),
"",
"**Scale** (mock, batch \(.scale[0].batch)): per-command cost with N virtual IDs set",
"on one vIOMMU, the commands naming M of them:",
"",
"| IDs set (N) | IDs named (M) | per command | vs N = M = 1 |",
"|---|---|---|---|",
(.scale[0].ratio_to_floor as $one | .scale[] |
	"| \(.ids) | \(if .vid then "1 (ID \(.vid))" else .named end) | \(.per_cmd_ratio_to_floor | r) | \(if $one and .ratio_to_floor then .ratio_to_floor / $one else null end | r) |"),
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
' "$json" > "$md"
echo "ok 2 table: ${md#"$TOP"/}"

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
common="set terminal pngcairo size 800,500 font 'sans,10'
set logscale x 2
set logscale y
set grid
set key top right"
rc=0
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
     1 with lines dt 2 title 'null ioctl'" 3 || rc=1
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
     \$all with linespoints lw 2 title 'commands name every ID'" 4 || rc=1
exit $rc
