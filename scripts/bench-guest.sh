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
#             the measurement starts, stopped after
#   trace     cowstat.ko loaded and "cowstat trace -q -- cowbench" reading every trace event
#             (make bench-trace); its report's fault and drop counts go to the log
#
#   bench-guest.sh KO OUTDIR REPS PAGES ROUNDS [CONFIGS [MODES]]
#   (defaults: CONFIGS "none cowstat bpftrace", MODES every cowbench mode)
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
read -r -a modes <<< "${7:-}"
top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench/cowbench
results=$out/results.tsv
log=$out/log
kplist=/sys/kernel/debug/kprobes/list
bt_prog='kprobe:do_wp_page { @[pid] = count(); }'

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
	grep -q do_wp_page "$kplist" && fail "a probe on do_wp_page is left over"
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
	grep -E '^(copy|reuse|zero|missed_[a-z_]+) ' \
		/sys/kernel/debug/cowstat/summary | tr '\n' ' ' | sed 's/^/  cowstat summary: /' >> "$log"
	echo >> "$log"
	unload
}

run_bpftrace() {
	local bt i

	bpftrace -e "$bt_prog" > "$out/bpftrace.out" 2>&1 &
	bt=$!
	# Attached once its kprobe is listed (bpftrace prints "Attaching 1 probe..." before).
	for i in $(seq 1 600); do
		grep -q ' do_wp_page+' "$kplist" && break
		kill -0 "$bt" 2> /dev/null || fail "bpftrace exited: $(head -c 500 "$out/bpftrace.out")"
		sleep 0.2
	done
	grep -q ' do_wp_page+' "$kplist" || fail "bpftrace did not attach in 120 s"
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

nc=${#configs[@]}
for rep in $(seq 1 "$reps"); do
	for i in $(seq 0 $((nc - 1))); do
		c=${configs[$(((rep - 1 + i) % nc))]}
		echo "rep $rep $c $(date +%T)" >> "$log"
		"run_$c" "$rep"
	done
done
dmesg > "$out/dmesg"
echo "done" > "$out/done"
