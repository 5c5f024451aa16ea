#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": what cowstat adds to the cost of a COW fault, next to what bpftrace adds.
# A benchmark, not a test: it is not part of "make test" and has no pass/fail threshold.
#
# For each target kernel, in ONE guest boot (QEMU, TCG, 2 vCPUs, thread=single, like the
# tests), scripts/bench-guest.sh runs bench/cowbench with nothing loaded, with cowstat.ko
# loaded, and with bpftrace counting do_wp_page per pid, REPS times each in rotating order.
# Then this script prints, per kernel and cowbench mode, each configuration's ns/fault (the
# median over the repetitions of each run's median, and the best run's), the cost each adds
# over "none" (ns and ratio), and cowstat's added cost as a fraction of bpftrace's.
#
# Everything runs under software emulation: int3 and kprobe traps, and so the costs added,
# are inflated relative to real hardware. Compare the configurations with each other, not the
# absolute numbers with a real machine.
#
# ICOUNT=1 adds "-icount shift=0,sleep=off": the guest's clock then advances 1 ns per executed
# instruction, so ns/fault reads as instructions/fault, free of host load (wall-clock runs on a
# shared 2-core machine vary by 10-30% from run to run; icount runs by under 1%). It counts
# instructions, not time: traps and cache misses cost nothing extra.
# QEMU 7.2 hangs the 6.1 guest's secondary CPU bring-up under icount: with ICOUNT=1 the guest
# gets one vCPU (CPUS=1, the default then) and cowbench's parent and child share it.
#
# "make bench-file" is MODES="file-read shared-first-write anon": what the probes cost file
# faults, which cowstat does not count but its finish_fault return probe sees (a read fault of
# a tmpfs page, with fault-around off; the first write to a MAP_SHARED tmpfs page), against the
# bpftrace equivalent, a kprobe and a kretprobe on finish_fault (scripts/bench-guest.sh). The
# bpftrace baseline differs between COW and file modes, so with it one run takes one kind.
#
# CONFIGS chooses the configurations (default "none cowstat bpftrace"); "make bench-trace" is
# CONFIGS="none cowstat trace folded": the trace event disabled, "cowstat trace" reading every
# event, and the same with --folded, which takes each event's user stack (scripts/bench-guest.sh).
#
# Environment: KERNELS="6.1 6.12" (default: every target kernel), CONFIGS, REPS (default 8),
# PAGES (default 2048), ROUNDS (default 31), MODES (cowbench modes, default the COW ones and
# the control: "copy reuse zero anon"), ICOUNT
# (default 0), CPUS (vCPUs; default 2, 1 with ICOUNT=1), VM_TIMEOUT (seconds, default 900).
# Results: build/bench/summary.txt and summary.tsv; raw data and logs in build/bench/vm-<k>/.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=$top/build/bench
reps=${REPS:-8}
pages=${PAGES:-2048}
modes=${MODES:-copy reuse zero anon}
rounds=${ROUNDS:-31}
configs=${CONFIGS:-none cowstat bpftrace}
vm_timeout=${VM_TIMEOUT:-900}
qemu_opts='-accel tcg,thread=single'
clock="wall clock"
cpus=${CPUS:-2}
if [ "${ICOUNT:-0}" = 1 ]; then
	qemu_opts="$qemu_opts -icount shift=0,sleep=off"
	clock="icount: 1 ns = 1 instruction"
	cpus=${CPUS:-1}
fi
kernels=${KERNELS:-$(awk '!/^#/ && NF {print $1}' scripts/kernels.conf)}

die() {
	echo "bench: $*" >&2
	exit 1
}

case " $configs " in
*" bpftrace "*)
	command -v bpftrace > /dev/null || die "bpftrace missing: run 'make setup' as root"
	case " $modes " in
	*" file-read "* | *" shared-first-write "*)
		case " $modes " in
		*" copy "* | *" reuse "* | *" zero "*)
			die "MODES mixes COW and file-fault modes, whose bpftrace baselines differ: run them apart (make bench, make bench-file)" ;;
		esac ;;
	esac ;;
esac
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
	echo "bench: $rel: booting QEMU (TCG, $cpus vCPUs, thread=single, $clock), $reps x ($configs)..."
	# One QEMU at a time on this machine: guests of concurrent runs queue on a lock (vm.sh).
	scripts/vm.sh "$k" "$vm_timeout" \
		--cpus "$cpus" --memory 2G --qemu-opts="$qemu_opts" --verbose \
		--rwdir="/tmp/cowstat-out=$vmout" \
		--exec "scripts/bench-guest.sh $top/build/$rel/cowstat.ko /tmp/cowstat-out $reps $pages $rounds '$configs' '$modes'" \
		> "$out/console-$k.log" 2>&1
	if [ ! -e "$vmout/done" ]; then
		echo "bench: $rel: the guest did not finish (crash, hang or timeout); see $out/console-$k.log"
		tail -n 5 "$vmout/log" 2> /dev/null
		rc=1
		continue
	fi
	printf '%s\t%s\n' "$k" "$rel" >> "$out/kernels"
done
[ -s "$out/kernels" ] || exit 1

python3 - "$out" "$reps" "$pages" "$rounds" "$clock" "$configs" <<'EOF' | tee "$out/summary.txt"
import csv, os, statistics, sys

out, reps, pages, rounds, clock, configs = sys.argv[1:7]
others = [c for c in configs.split() if c != "none"]
both = "cowstat" in others and "bpftrace" in others
# Two summaries of the repetitions: their median, and the best (fastest) run. Noise on a
# shared host only ever adds time, and comes in spells that slow whole runs (see "The fault path" in
# Documentation/benchmarks.rst); "anon", which no probe sees, shows what is left of it.
estimators = (("median", statistics.median), ("best", min))
tsv = open(os.path.join(out, "summary.tsv"), "w")
print("kernel\testimator\tmode\tconfig\tns\tadded_ns\tratio", file=tsv)
print("ns per fault: each run's median of %s rounds x %s pages; over %s repetitions, their "
      "median and the best run." % (rounds, pages, reps))
print("QEMU TCG (software emulation, %s): not real-hardware costs; compare the "
      "configurations with each other." % clock)
for line in open(os.path.join(out, "kernels")):
    k, rel = line.split()
    runs = {}
    with open(os.path.join(out, "vm-" + k, "results.tsv")) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            runs.setdefault((row["mode"], row["config"]), []).append(float(row["median_ns"]))
    for name, est in estimators:
        print("\n%s (%s), %s of %s runs" % (k, rel, name, reps))
        print("%-18s %9s" % ("mode", "none") + "".join("  %24s" % (c + " (added)") for c in others)
              + ("  cowstat/bpftrace" if both else ""))
        for mode in ("copy", "reuse", "zero", "file-read", "shared-first-write", "anon"):
            val = {c: est(runs[(mode, c)]) for c in ["none"] + others if (mode, c) in runs}
            if len(val) < 1 + len(others):
                continue
            n = val["none"]
            cells = ""
            for c in others:
                cells += "  %9.0f %+6.0f (%.3fx)" % (val[c], val[c] - n, val[c] / n)
                print("%s\t%s\t%s\t%s\t%.0f\t%.0f\t%.4f"
                      % (k, name, mode, c, val[c], val[c] - n, val[c] / n), file=tsv)
            if both:
                ca, ba = val["cowstat"] - n, val["bpftrace"] - n
                if mode == "anon":
                    cells += "  (control)"
                else:
                    cells += "  %s" % ("%.2f" % (ca / ba) if ba > 0 else "n/a")
            print("%-18s %9.0f%s" % (mode, n, cells))
    log = os.path.join(out, "vm-" + k, "log")
    for l in open(log):
        if l.startswith("  trace: "):
            print(l.rstrip())
EOF
exit $rc
