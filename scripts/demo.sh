#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's main job, in one command (make demo): set-up (scripts/setup.sh, the same step as
# the test command), build the module for Debian's 6.1 kernel and the tool, boot 6.1 under QEMU
# with virtme-ng, load the module and run
#   cowstat run -- workloads/prefork -m 64 -w 4
# on the bundled pre-fork workload, then print what the guest printed: the workload's own lines
# and cowstat's report. DEMO_ARGS replaces the workload's arguments; KERNEL=7.x boots 7.x
# (any name of scripts/kernels.conf).
#
# Guests queue on the same lock as the test command (one QEMU at a time on this machine).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
kernel=${KERNEL:-6.1}
out=$top/build/demo

scripts/setup.sh || exit 1
rel=$(scripts/kernels.sh "$kernel")
[ -n "$rel" ] || { echo "demo: kernel $kernel is not installed (run 'make setup')" >&2; exit 1; }
mkdir -p "$out"
rm -f "$out/report.txt" "$out/done" "$out/erosion.svg"
make -s KERNEL="$kernel" module tool > "$out/build.log" 2>&1 ||
	{ echo "demo: build failed (details: $out/build.log)" >&2; exit 1; }
echo "demo: booting $rel under QEMU (software emulation, about a minute)..." >&2
scripts/vm.sh "$kernel" 900 --cpus 2 \
	--memory 2G --qemu-opts='-accel tcg,thread=single' --verbose \
	--rwdir="/tmp/cowstat-out=$out" \
	--exec "scripts/demo-guest.sh $top/build/$rel/cowstat.ko /tmp/cowstat-out ${DEMO_ARGS:-}" \
	> "$out/console.log" 2>&1
if [ ! -e "$out/done" ]; then
	echo "demo: the guest did not finish (console: $out/console.log)" >&2
	exit 1
fi
cat "$out/report.txt"
[ -s "$out/erosion.svg" ] && echo "demo: the erosion drawn in $out/erosion.svg" >&2
