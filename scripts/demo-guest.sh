#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the QEMU guest started by scripts/demo.sh, as root: load the module, run the
# pre-fork workload under cowstat run, unload. Everything printed goes to OUTDIR/report.txt,
# the erosion's picture to OUTDIR/erosion.svg.
#
#   demo-guest.sh KO OUTDIR [PREFORK ARGS]
set -u
ko=$1
out=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- -m 64 -w 4
mount -t debugfs none /sys/kernel/debug 2>/dev/null
{
	insmod "$ko" || exit 1
	echo "# cowstat run --plot erosion.svg -- workloads/prefork $*"
	"$top/tools/cowstat" run --plot "$out/erosion.svg" -- "$top/workloads/prefork" "$@" 2>&1
	echo "# exit status $?"
	rmmod cowstat
} > "$out/report.txt" 2>&1
echo done > "$out/done"
