#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench-trace": what the trace event cowstat:cow_fault costs per COW fault, disabled
# (cowstat.ko loaded, nobody listening) and with "cowstat trace" consuming every event, each as
# a ratio against no module, measured in the same guest boot. A benchmark, not a test.
#
# Like "make bench" (scripts/bench.sh, which compares cowstat with bpftrace): bench/cowbench in
# a QEMU guest (TCG, 2 vCPUs, thread=single), REPS repetitions of each configuration in
# rotating order, the median over repetitions of each run's median ns per fault.
#   none     nothing loaded
#   cowstat  cowstat.ko loaded, its trace event disabled (a static branch)
#   trace    cowstat.ko loaded, "cowstat trace -q -- cowbench" reading every event
# ICOUNT=1 counts guest instructions instead of wall-clock time (6.12 only, see bench.sh).
# Environment: KERNELS, REPS (default 5), PAGES (2048), ROUNDS (31), ICOUNT, VM_TIMEOUT.
# Results: build/bench-trace/summary.txt; raw data in build/bench-trace/vm-<k>/.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=$top/build/bench-trace
reps=${REPS:-5}
pages=${PAGES:-2048}
rounds=${ROUNDS:-31}
vm_timeout=${VM_TIMEOUT:-900}
qemu_opts='-accel tcg,thread=single'
clock="wall clock"
if [ "${ICOUNT:-0}" = 1 ]; then
	qemu_opts="$qemu_opts -icount shift=0,sleep=off"
	clock="icount: 1 ns = 1 instruction"
fi
kernels=${KERNELS:-$(awk '!/^#/ && NF {print $1}' scripts/kernels.conf)}

die() {
	echo "bench-trace: $*" >&2
	exit 1
}

make -s bench/cowbench tool || die "building bench/cowbench and the tool failed"
rm -rf "$out"
mkdir -p "$out"
rc=0
for k in $kernels; do
	rel=$(scripts/kernels.sh "$k") || die "kernel $k not installed: run 'make setup'"
	make -s KERNEL="$k" module > "$out/build-$k.log" 2>&1 ||
		die "module build for $rel failed (see $out/build-$k.log)"
	vmout=$out/vm-$k
	mkdir -p "$vmout"
	echo "bench-trace: $rel: booting QEMU ($clock), $reps x 3 configurations..."
	flock /tmp/cowstat-qemu.lock timeout "$vm_timeout" vng --run "/boot/vmlinuz-$rel" \
		--disable-kvm --cpus 2 --memory 2G --qemu-opts="$qemu_opts" --verbose \
		--rwdir="/tmp/cowstat-out=$vmout" \
		--exec "scripts/bench-trace-guest.sh $top/build/$rel/cowstat.ko /tmp/cowstat-out $reps $pages $rounds" \
		> "$out/console-$k.log" 2>&1
	if [ ! -e "$vmout/done" ]; then
		echo "bench-trace: $rel: the guest did not finish; see $out/console-$k.log"
		rc=1
		continue
	fi
	printf '%s\t%s\n' "$k" "$rel" >> "$out/kernels"
done
[ -s "$out/kernels" ] || exit 1

python3 - "$out" "$reps" "$pages" "$rounds" "$clock" <<'EOF' | tee "$out/summary.txt"
import csv, os, statistics, sys

out, reps, pages, rounds, clock = sys.argv[1:6]
configs = ("none", "cowstat", "trace")
print("Median ns per fault (median over %s repetitions of each run's median of %s rounds x %s "
      "pages); QEMU TCG, %s." % (reps, rounds, pages, clock))
for line in open(os.path.join(out, "kernels")):
    k, rel = line.split()
    runs = {}
    with open(os.path.join(out, "vm-" + k, "results.tsv")) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            runs.setdefault((row["mode"], row["config"]), []).append(float(row["median_ns"]))
    print("\n%s (%s)" % (k, rel))
    print("%-6s %9s %14s %22s" % ("mode", "none", "event disabled", "cowstat trace reading"))
    for mode in ("copy", "reuse", "zero", "anon"):
        med = {c: statistics.median(runs[(mode, c)]) for c in configs if (mode, c) in runs}
        if len(med) < 3:
            continue
        n = med["none"]
        print("%-6s %9.0f %7.0f %.3fx %14.0f %.3fx" % (mode, n, med["cowstat"],
              med["cowstat"] / n, med["trace"], med["trace"] / n))
    print(open(os.path.join(out, "vm-" + k, "drops")).read().strip())
EOF
exit $rc
