#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the guest for scripts/bench-trace.sh:
#   bench-trace-guest.sh KO OUTDIR REPS PAGES ROUNDS
# Writes OUTDIR/results.tsv (config, rep, cowbench's columns), OUTDIR/drops (events dropped
# by "cowstat trace" in each traced run) and OUTDIR/done.
set -u
ko=$1
out=$2
reps=$3
pages=$4
rounds=$5
top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench/cowbench
results=$out/results.tsv
: > "$out/log"
: > "$out/drops"
printf 'config\trep\tmode\tpages\trounds\tmedian_ns\tmin_ns\tmax_ns\n' > "$results"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null

fail() {
	echo "bench-trace-guest: $*" | tee -a "$out/log" >&2
	exit 1
}

measure() {
	local config=$1 rep=$2
	shift 2
	"$@" "$bench" -n "$pages" -r "$rounds" > "$out/run.tsv" 2>> "$out/log" ||
		fail "cowbench failed ($config)"
	tail -n +2 "$out/run.tsv" | sed "s/^/$config\t$rep\t/" >> "$results"
}

run_none() {
	measure none "$1"
}

run_cowstat() {
	insmod "$ko" 2>> "$out/log" || fail "insmod failed"
	measure cowstat "$1"
	rmmod cowstat 2>> "$out/log" || fail "rmmod failed"
}

run_trace() {
	insmod "$ko" 2>> "$out/log" || fail "insmod failed"
	measure trace "$1" "$top/tools/cowstat" trace -q -o "$out/report" --
	echo "rep $1: $(grep -E '^(cowstat trace|events dropped)' "$out/report" | tr '\n' ' ')" \
		>> "$out/drops"
	rmmod cowstat 2>> "$out/log" || fail "rmmod failed"
}

configs=(none cowstat trace)
for rep in $(seq 1 "$reps"); do
	for i in 0 1 2; do
		"run_${configs[$(((rep - 1 + i) % 3))]}" "$rep"
	done
done
echo done > "$out/done"
