#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the QEMU guest (started by scripts/run-tests.sh through virtme-ng), as root, with
# the project tree visible read-only. Writes kselftest TAP to $out/tap and the kernel log to
# $out/dmesg, and the word "done" to $out/done when it got to the end (a crashed or hung guest
# leaves no marker, which the host reports as a failure).
#
#   guest-run.sh KO OUTDIR [N] [ONLY]   (N: TAP lines already printed for this kernel by the
#   host; ONLY: space-separated selftest names, to run only those while developing)
#
# Order: the life-cycle test (it loads and unloads the module itself), then insmod, every other
# selftest, rmmod, and a scan of the kernel log written since this script started.
#
# Environment: COWSTAT_TIME_SCALE multiplies every time limit (the tests read it too);
# COWSTAT_DEBUG_KERNEL=1 (the debug kernel of scripts/debug-kernel.sh) also requires that
# KASAN, lockdep and kmemleak are active, clears kmemleak's earlier reports before the tests,
# has it scan after rmmod (any leak reported then fails), and checks at the end that lockdep
# has not turned itself off (it does after its first report).
set -u
ko=$1
out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
tap=$out/tap
: > "$tap"
n=${3:-0}
only=${4:-}
scale=${COWSTAT_TIME_SCALE:-1}
debug=${COWSTAT_DEBUG_KERNEL:-0}
kmemleak=/sys/kernel/debug/kmemleak
# Pictures the tests draw (trace --svg), for the host's browser to open after the run
# (host-tests/pictures_test.py, from run-tests.sh).
export COWSTAT_PICTURES=$out/pictures
mkdir -p "$COWSTAT_PICTURES"

emit() {
	echo "$*" >> "$tap"
}

# One top-level TAP line for a check done here (counted as one test).
check() {
	local ok=$1 what=$2
	n=$((n + 1))
	if [ "$ok" = 0 ]; then
		emit "ok $n cowstat: $what"
	else
		emit "not ok $n cowstat: $what"
	fi
}

# Run a kselftest harness binary; its own TAP is nested under "# ". A binary that fails
# without reporting a failing test (crash, signal, bad plan) gets one failing leaf of its own.
run_selftest() {
	local t=$1 name rc log t0
	name=$(basename "$t")
	log=$(mktemp)
	t0=$(date +%s)
	COWSTAT_KO=$ko COWSTAT_TIME_SCALE=$scale timeout $((600 * scale)) "$t" > "$log" 2>&1
	rc=$?
	echo "# time: $name $(($(date +%s) - t0)) s" >> "$log"
	sed 's/^/# /' "$log" >> "$tap"
	n=$((n + 1))
	if [ $rc = 0 ] || [ $rc = 4 ]; then
		emit "ok $n selftests: cowstat: $name"
	else
		grep -q '^not ok ' "$log" ||
			emit "# not ok 0 $name exited with status $rc without a failing test"
		emit "not ok $n selftests: cowstat: $name # exit=$rc"
	fi
	rm -f "$log"
}

mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
# Loopback, for the exporter's test and its Prometheus: a guest on another release's root
# (vng --root) comes up without it, and the minbase root has no ip(8): busybox's.
{ ip link set lo up || busybox ip link set lo up; } 2>/dev/null
dmesg_start=$(dmesg | wc -l)
emit "# kernel $(uname -r), $(nproc) CPUs"

[ -e "$ko" ]
check $? "module file $ko present"

# lockdep's debug_locks: 1 while it validates, 0 once a report (or an overflow) turned it off.
lockdep_on() {
	grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats 2>/dev/null
}

if [ "$debug" = 1 ]; then
	dmesg | grep -q 'KernelAddressSanitizer initialized'
	check $? "debug kernel: KASAN active"
	lockdep_on
	check $? "debug kernel: lockdep active (debug_locks 1)"
	[ -w "$kmemleak" ] && echo clear > "$kmemleak"
	check $? "debug kernel: kmemleak active, earlier reports cleared"
fi

# While developing, COWSTAT_ONLY="a_test b_test" on the host runs only those (make test runs all).
wanted() {
	[ -z "$only" ] || case " $only " in *" $(basename "$1") "*) return 0 ;; *) return 1 ;; esac
}

wanted load_test && run_selftest "$top/selftests/load_test"

insmod "$ko" 2>> "$tap"
check $? "insmod cowstat.ko"

for t in "$top"/selftests/*_test "$top"/selftests/*_test.py; do
	case "$t" in */load_test) continue ;; esac
	[ -x "$t" ] && wanted "$t" && run_selftest "$t"
done

if [ -d /sys/kernel/debug/cowstat ]; then
	rmmod cowstat 2>> "$tap"
	check $? "rmmod cowstat"
fi
[ ! -e /sys/kernel/debug/cowstat ]
check $? "debugfs directory gone after unload"

if [ "$debug" = 1 ]; then
	# kmemleak reports an object only once it has been unreferenced for 5 s, and needs a
	# second scan to be sure: both after the module and its objects are gone.
	sleep 6
	echo scan > "$kmemleak"
	sleep 6
	echo scan > "$kmemleak"
	cat "$kmemleak" > "$out/kmemleak"
	[ ! -s "$out/kmemleak" ]
	check $? "kmemleak: no leak after the tests and rmmod"
	head -n 60 "$out/kmemleak" | sed 's/^/# kmemleak: /' >> "$tap"
	lockdep_on
	check $? "lockdep still active at the end (no report turned it off)"
fi

# Any splat in the kernel log written while the tests ran fails the run.
dmesg | tail -n +$((dmesg_start + 1)) > "$out/dmesg"
if "$top/scripts/scan-dmesg.sh" < "$out/dmesg" > "$out/splats"; then
	check 0 "kernel log free of splats"
else
	check 1 "kernel log free of splats"
	sed 's/^/# dmesg: /' "$out/splats" >> "$tap"
fi
echo done > "$out/done"
