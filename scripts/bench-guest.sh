#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the QEMU guest (started by scripts/bench.sh through virtme-ng), as root, with the
# project tree visible read-only. Runs bench/cowbench under three configurations, REPS times
# each, rotating their order (A B C, B C A, C A B, ...) so that drift and order effects spread
# over all three:
#   none      nothing loaded
#   cowstat   cowstat.ko loaded (insmod before, rmmod after)
#   bpftrace  bpftrace -e 'kprobe:do_wp_page { @[pid] = count(); }' running, attached before
#             the measurement starts, stopped after; for the file-fault modes (file-read,
#             shared-first-write: make bench-file) instead a kprobe and a kretprobe on
#             finish_fault doing what cowstat's return probe does (bt_ff below)
#   trace     cowstat.ko loaded and "cowstat trace -q -- cowbench" reading every trace event
#             (make bench-trace); its report's fault and drop counts go to the log
#   folded    the same with --folded: every event also carries its user stack
#
#   bench-guest.sh KO OUTDIR REPS PAGES ROUNDS [CONFIGS [MODES]]
#   (defaults: CONFIGS "none cowstat bpftrace", MODES "copy reuse zero anon")
#
# With file-read among the modes, fault-around is turned off for the run
# (/sys/kernel/debug/fault_around_bytes 4096, restored at the end), so that every read is a
# fault that reaches finish_fault(); cowbench checks that every access faulted.
#
# Writes $out/results.tsv (config rep mode pages rounds median_ns min_ns max_ns), $out/log,
# and "done" to $out/done when it got to the end.
set -u
ko=$1
out=$2
reps=$3
pages=$4
rounds=$5
read -r -a configs <<< "${6:-none cowstat bpftrace}"
read -r -a modes <<< "${7:-copy reuse zero anon}"
top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench/cowbench
results=$out/results.tsv
log=$out/log
kplist=/sys/kernel/debug/kprobes/list
bt_prog='kprobe:do_wp_page { @[pid] = count(); }'
bt_fn=do_wp_page
# What cowstat's finish_fault return probe does (module/probe.c, ff_entry/ff_return): at entry,
# arm the return only for a write to a private mapping (FAULT_FLAG_WRITE 0x1; VM_SHARED 0x8,
# VM_MAYSHARE 0x80); at return, count unless VM_FAULT_NOPAGE (0x100). bpftrace's return probe
# runs for every call: it cannot be armed per call.
bt_ff='kprobe:finish_fault {
	$vmf = (struct vm_fault *)arg0;
	if (($vmf->flags & 1) && !($vmf->vma->vm_flags & 0x88)) { @ff[tid] = 1; }
}
kretprobe:finish_fault /@ff[tid]/ {
	delete(@ff[tid]);
	if (!(retval & 0x100)) { @[pid] = count(); }
}'
fault_around=/sys/kernel/debug/fault_around_bytes
fault_around_old=

: > "$log"
printf 'config\trep\tmode\tpages\trounds\tmedian_ns\tmin_ns\tmax_ns\n' > "$results"

fail() {
	echo "bench-guest: $*" | tee -a "$log" >&2
	exit 1
}

mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
{
	echo "kernel $(uname -r), $(nproc) CPUs, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	echo "bpftrace: $(bpftrace --version 2>&1)"
	echo "cowbench -n $pages -r $rounds, $reps repetitions"
} >> "$log"
case " ${modes[*]} " in
*" file-read "* | *" shared-first-write "*)
	bt_prog=$bt_ff
	bt_fn=finish_fault
	;;
esac
case " ${modes[*]} " in
*" file-read "*)
	[ -w "$fault_around" ] || fail "$fault_around missing: cannot turn fault-around off"
	fault_around_old=$(cat "$fault_around")
	echo 4096 > "$fault_around" || fail "cannot set $fault_around"
	echo "fault_around_bytes $fault_around_old -> $(cat "$fault_around") for the run" >> "$log"
	;;
esac
echo "bpftrace probe: $bt_prog" >> "$log"
[ -x "$bench" ] || fail "$bench missing: build it with 'make bench/cowbench'"
[ -e "$ko" ] || fail "$ko missing"
case " ${configs[*]} " in
*" bpftrace "*) command -v bpftrace > /dev/null || fail "bpftrace missing: run 'make setup'" ;;
esac

# One cowbench run, its rows tagged with the configuration and repetition.
# measure CONFIG REP [WRAPPER...]: cowbench, run under WRAPPER when given.
measure() {
	local config=$1 rep=$2
	shift 2
	"$@" "$bench" -n "$pages" -r "$rounds" "${modes[@]}" > "$out/run.tsv" 2>> "$log" ||
		fail "cowbench failed ($config)"
	tail -n +2 "$out/run.tsv" | sed "s/^/$config\t$rep\t/" >> "$results"
	sed "s/^/  $config rep $rep: /" "$out/run.tsv" >> "$log"
}

run_none() {
	grep -q " $bt_fn+" "$kplist" && fail "a probe on $bt_fn is left over"
	measure none "$1"
}

load() {
	insmod "$ko" 2>> "$log" || fail "insmod $ko failed"
}

unload() {
	rmmod cowstat 2>> "$log" || fail "rmmod cowstat failed"
}

run_cowstat() {
	load
	measure cowstat "$1"
	# Sanity: the module saw the faults (copy, reuse and zero: each pages x (rounds + 1)).
	grep -E '^(copy|reuse|zero|file|missed_[a-z_]+) ' \
		/sys/kernel/debug/cowstat/summary | tr '\n' ' ' | sed 's/^/  cowstat summary: /' >> "$log"
	echo >> "$log"
	unload
}

run_bpftrace() {
	local bt i

	bpftrace -e "$bt_prog" > "$out/bpftrace.out" 2>&1 &
	bt=$!
	# Attached once its probes are listed (bpftrace prints "Attaching N probes..." before).
	local nprobes
	nprobes=$(grep -o 'k[a-z]*probe:' <<< "$bt_prog" | wc -l)
	for i in $(seq 1 600); do
		[ "$(grep -c " $bt_fn+" "$kplist")" -ge "$nprobes" ] && break
		kill -0 "$bt" 2> /dev/null || fail "bpftrace exited: $(head -c 500 "$out/bpftrace.out")"
		sleep 0.2
	done
	[ "$(grep -c " $bt_fn+" "$kplist")" -ge "$nprobes" ] || fail "bpftrace did not attach in 120 s"
	sleep 1
	measure bpftrace "$1"
	kill -INT "$bt"
	# bpftrace prints its map and exits; once in a long run it ignored SIGINT and the whole
	# benchmark waited for the guest's timeout.
	for i in $(seq 1 150); do
		kill -0 "$bt" 2> /dev/null || break
		sleep 0.2
	done
	if kill -0 "$bt" 2> /dev/null; then
		echo "  bpftrace did not exit 30 s after SIGINT: killed" >> "$log"
		kill -KILL "$bt"
	fi
	wait "$bt"
	# Sanity: the largest per-pid counts are cowbench's (the parent's reuse and zero faults).
	echo "  bpftrace: $(grep -c '^@\[' "$out/bpftrace.out") pids, largest counts:" \
		"$(grep '^@\[' "$out/bpftrace.out" | sort -t: -k2 -n | tail -n 2 | tr '\n' ' ')" >> "$log"
}

run_trace() {
	load
	measure trace "$1" "$top/tools/cowstat" trace -q -o "$out/trace-report" --
	echo "  trace: $(grep -E '^(cowstat trace|events dropped)' "$out/trace-report" |
		tr '\n' ' ')" >> "$log"
	unload
}

# The same, with each event's user stack (cowstat trace --folded: PERF_SAMPLE_CALLCHAIN).
run_folded() {
	load
	measure folded "$1" "$top/tools/cowstat" trace -q -o "$out/trace-report" \
		--folded "$out/trace-folded" --
	echo "  trace: --folded: $(grep -E '^(cowstat trace|events dropped)' "$out/trace-report" |
		tr '\n' ' ')$(wc -l < "$out/trace-folded") stacks" >> "$log"
	unload
}

nc=${#configs[@]}
for rep in $(seq 1 "$reps"); do
	for i in $(seq 0 $((nc - 1))); do
		c=${configs[$(((rep - 1 + i) % nc))]}
		echo "rep $rep $c $(date +%T)" >> "$log"
		"run_$c" "$rep"
	done
done
[ -n "$fault_around_old" ] && echo "$fault_around_old" > "$fault_around"
dmesg > "$out/dmesg"
echo "done" > "$out/done"
