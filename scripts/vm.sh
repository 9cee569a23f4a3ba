#!/bin/bash
# Boot a test VM on a named topology and return the guest's verdict.
#
#   scripts/vm.sh [options] TOPOLOGY KERNEL INITRD
#     -t SECONDS   kill the VM after this long (default 600)
#     -l FILE      write the console to FILE (default: a temp file)
#     -q           do not echo the console
#     -T PATTERN   enable QEMU trace events matching PATTERN (repeatable)
#     -o FILE      write the trace to FILE (default: build/trace.log)
#     -a ARGS      append ARGS to the kernel command line
#     -m SIZE      guest memory (default 2G)
#
# TOPOLOGY is a file in topologies/ (one QEMU argument per line). Exit
# status: 0 when the guest powered off after every program passed, 1 when
# one failed, 2 when the VM hit its timeout, 3 when it stopped without
# powering off (panic, QEMU error). 2 and 3 print the console's tail.
set -euo pipefail
. "$(dirname "$0")/common.sh"

timeout=600 log= quiet=0 tracefile=$BUILD/trace.log append= mem=2G
traces=()
while getopts "t:l:qT:o:a:m:" opt; do
	case $opt in
	t) timeout=$OPTARG ;;
	l) log=$OPTARG ;;
	q) quiet=1 ;;
	T) traces+=("$OPTARG") ;;
	o) tracefile=$OPTARG ;;
	a) append="$append $OPTARG" ;;
	m) mem=$OPTARG ;;
	*) exit 64 ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 3 ] || die "usage: vm.sh [options] TOPOLOGY KERNEL INITRD"
topo=$TOP/topologies/$1 kernel=$2 initrd=$3
[ -f "$topo" ] || die "no topology '$1' (see topologies/)"

qemu=$(qemu_binary)
firmware=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd
[ -f "$firmware" ] || die "$firmware missing (make deps)"

args=(-M virt,gic-version=3 -cpu max,pauth-impdef=on -smp 2 -m "$mem"
      -nographic -nodefaults -serial stdio -net none -no-reboot
      -bios "$firmware" -kernel "$kernel" -initrd "$initrd"
      -append "console=ttyAMA0 acpi=force panic=-1$append")
while IFS= read -r line; do
	case $line in ''|'#'*) continue ;; esac
	args+=("$line")
done < "$topo"
if [ ${#traces[@]} -gt 0 ]; then
	for t in "${traces[@]}"; do args+=(-trace "enable=$t"); done
	args+=(-D "$tracefile")
	: > "$tracefile"
fi

[ -n "$log" ] || { log=$(mktemp); trap 'rm -f "$log"' EXIT; }
mkdir -p "$(dirname "$log")"
set +e
if [ $quiet = 1 ]; then
	timeout -s KILL "$timeout" "$qemu" "${args[@]}" < /dev/null > "$log" 2>&1
	rc=$?
else
	# UEFI's screen control sequences are noise on a terminal.
	timeout -s KILL "$timeout" "$qemu" "${args[@]}" < /dev/null 2>&1 | tee "$log" |
		sed -u 's/\x1b\[[0-9;=?]*[A-Za-z]//g'
	rc=${PIPESTATUS[0]}
fi
set -e
tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"

verdict=$(sed -n 's/^# viommu-poweroff: \([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ "$rc" = 137 ]; then
	echo "error: the $1 VM was killed at its ${timeout}s timeout; last console lines:" >&2
	tail -n 40 "$log" | sed 's/^/  | /' >&2
	exit 2
fi
if [ -z "$verdict" ]; then
	echo "error: the $1 VM stopped without powering off (QEMU exit $rc); last console lines:" >&2
	tail -n 40 "$log" | sed 's/^/  | /' >&2
	exit 3
fi
[ "$verdict" = 0 ]
