#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (not a test): how long the cowstat sharing snapshot of a fork family takes,
# against smem and against bench/pagemap-scan (pagemap + kpageflags + kpagecount), measured
# in the same guest on the same frozen family.
#
#   scripts/bench-snapshot.sh            (make bench-snapshot; root; boots one QEMU guest)
#
# Environment: KERNEL (6.1 or 6.12, default 6.12), N (processes, 16), SIZE (MiB each, 256),
# PCT (percent of its pages each child rewrites, 10), REPS (runs of each method, 7),
# MEMORY (guest RAM, 3G), PERF (1: also profile REPS snapshot writes with perf, cpu-clock
# sampling, into build/bench/perf-report.txt), SPARSE (GiB of untouched MAP_NORESERVE
# mapping the root maps before forking, so every member has it; 0), METHODS (which to time,
# default "module scan smem exec"; "tool" times the command "cowstat tree ROOT", the module's
# snapshot read and printed as a tree; the pagemap scan reads 8 bytes per page of a sparse
# mapping, 128 MiB per member for 64 GiB: leave it out there). With the defaults the family
# maps 4 GiB but needs about 256 + 15 * 26 = 640 MiB of frames, so it fits.
#
# The sparse goal of issue 11 (64 members, 64 GiB each, against the same family without it):
#   N=64 SIZE=16 METHODS="module exec" SPARSE=64 KERNEL=6.1 scripts/bench-snapshot.sh
#   N=64 SIZE=16 METHODS="module exec" SPARSE=0 KERNEL=6.1 scripts/bench-snapshot.sh
#
# Each method is run REPS times; the median wall-clock time is reported, then the ratios.
# The guest is software-emulated (TCG): absolute times are slow, the ratios are what counts.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --guest ]; then
	ko=$2 out=$3
	n=$4 size=$5 pct=$6 reps=$7 perf=${8:-0} sparse=${9:-0} methods=${10:-module scan smem exec}
	cd "$top" || exit 1
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	insmod "$ko" || exit 1
	coproc FAM { exec workloads/cowfamily "$n" "$size" "$pct" "$sparse"; }
	read -r root <&"${FAM[0]}" || { echo "family did not start"; exit 1; }
	echo "# family root $root: $n processes x $size MiB, children rewrite $pct%, each with $sparse GiB untouched" | tee "$out/result"
	grep -E 'MemTotal|MemFree' /proc/meminfo | sed 's/^/# /' | tee -a "$out/result"

	now() { echo "${EPOCHREALTIME/./}"; }	# microseconds, no fork
	median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	# One command per method, like the others: the write is a shell builtin, the read is
	# cat (bash's own readers read a byte per system call).
	snap() {
		exec 3<> /sys/kernel/debug/cowstat/snapshot
		printf 'tree %d\n' "$root" >&3
		cat <&3
		exec 3>&-
	}
	for m in $methods; do
		: > "$out/times-$m"
		for r in $(seq "$reps"); do
			t0=$(now)
			case $m in
			module) snap > "$out/out-$m" ;;
			tool) tools/cowstat tree "$root" > "$out/out-$m" ;;
			scan) bench/pagemap-scan -t "$root" > "$out/out-$m" ;;
			smem) smem -t -c 'pid uss pss rss' -P '^[^ ]*cowfamily' > "$out/out-$m" ;;
			exec) cat < /dev/null > "$out/out-$m" ;;
			esac
			t1=$(now)
			echo $((t1 - t0)) >> "$out/times-$m"
		done
	done
	if [ "$perf" = 1 ]; then
		# The snapshot writes only (the report is not read: no cat).
		sysctl -q kernel.kptr_restrict=0
		perf record -q -e cpu-clock -c 20000 -o "$out/perf.data" -- bash -c "
			for r in \$(seq $reps); do
				exec 3<> /sys/kernel/debug/cowstat/snapshot
				printf 'tree %d\n' $root >&3
				exec 3>&-
			done"
		perf report -i "$out/perf.data" --stdio --no-children --sort dso,sym \
			> "$out/perf-report.txt" 2>&1
		# perf shows bare addresses here: resolve them with this copy (and nm on cowstat.ko).
		cat /proc/kallsyms > "$out/perf-kallsyms.txt"
	fi
	has() { case " $methods " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
	{
		has module && echo "# module snapshot:  $(grep '^family ' "$out/out-module") (family_columns: $(sed -n 's/^family_columns //p' "$out/out-module"))"
		has scan && echo "# pagemap-scan:     $(cat "$out/out-scan")"
		has smem && echo "# smem (totals):    $(tail -n 1 "$out/out-smem")"
		printf 'method\tmedian_ms\truns_ms\n'
		for m in $methods; do
			printf '%s\t%d.%03d\t%s\n' "$m" $(( $(median < "$out/times-$m") / 1000 )) \
				$(( $(median < "$out/times-$m") % 1000 )) \
				"$(awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1000 }' "$out/times-$m")"
		done
		# "exec" is the cost of starting a process (cat of nothing): every method pays it.
		has module && has scan && has smem && has exec || exit 0
		mod=$(median < "$out/times-module")
		scan=$(median < "$out/times-scan")
		smem=$(median < "$out/times-smem")
		ex=$(median < "$out/times-exec")
		awk -v a="$smem" -v b="$scan" -v m="$mod" -v e="$ex" 'BEGIN {
			printf "ratio smem/module %.1f (goal >= 10)\nratio pagemap-scan/module %.1f (goal >= 3)\n", a / m, b / m
			printf "without process start: smem/module %.1f, pagemap-scan/module %.1f\n", (a - e) / (m - e), (b - e) / (m - e) }'
	} | tee -a "$out/result"
	eval "exec ${FAM[1]}>&-"
	wait
	rmmod cowstat
	echo done > "$out/done"
	exit 0
fi

# The scaling sweep of issue 11 (SWEEP=1, make bench-snapshot-sweep): every family below in
# one guest, one row per (family, method) in $out/sweep.tsv. Baselines (smem, pagemap-scan)
# only up to SWEEP_BASE_MAX members and never on sparse families (the scan reads 8 bytes per
# page of a reservation), because they take seconds each under TCG.
if [ "${1:-}" = --sweep-guest ]; then
	ko=$2 out=$3 reps=$4 members=$5 sizes=$6 sparses=$7 base_max=$8 top_procs=${9:-}
	cd "$top" || exit 1
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	insmod "$ko" || exit 1
	now() { echo "${EPOCHREALTIME/./}"; }
	# The median, or "failed" if any run failed.
	median() { sort -n | awk '/failed/ {f = 1} {a[NR]=$1} END {print f ? "failed" : a[int((NR+1)/2)]}'; }
	# time_method METHOD ROOT: median of reps runs, in microseconds. The module's snapshot is
	# timed inside one process (bench/snaptime); the others are commands, and each of their
	# runs pays for starting a process: the row "exec" (cat of nothing) is that cost.
	time_method() {
		local r t0 t1
		if [ "$1" = module ]; then
			bench/snaptime "$2" "$reps" 2>> "$out/sweep.log" || echo failed
			return
		fi
		for r in $(seq "$reps"); do
			t0=$(now)
			case $1 in
			module) snap "$2" > /dev/null ;;
			scan) bench/pagemap-scan -t "$2" > /dev/null ;;
			smem) smem -t -c 'pid uss pss rss' -P '^[^ ]*cowfamily' > /dev/null ;;
			tool) tools/cowstat tree "$2" > /dev/null ;;
			top1) tools/cowstat top -n 1 -d 0.05 > /dev/null ;;
			top11) tools/cowstat top -n 11 -d 0.05 > /dev/null ;;
			exec) cat < /dev/null > /dev/null ;;
			esac
			# A failed command is a failed row, not a time.
			# shellcheck disable=SC2181
			if [ $? != 0 ]; then
				echo "# $1 $2 failed" >> "$out/sweep.log"
				echo failed
				continue
			fi
			t1=$(now)
			echo $((t1 - t0))
		done | median
	}
	# row SERIES FAMILY MEMBERS SIZE SPARSE METHOD US: one line of sweep.tsv.
	row() {
		if [ "$7" = failed ]; then
			printf '%s\t%s\t%d\t%d\t%d\t%s\tfailed\n' "${@:1:6}"
		else
			printf '%s\t%s\t%d\t%d\t%d\t%s\t%d.%03d\n' "${@:1:6}" $(($7 / 1000)) $(($7 % 1000))
		fi | tee -a "$out/sweep.tsv"
	}
	# family SERIES MODE N SIZE_MIB SPARSE_GIB: build it, time it, end it.
	family() {
		local series=$1 mode=$2 n=$3 size=$4 sparse=$5 root m us
		coproc FAM { exec workloads/cowfamily $mode "$n" "$size" 10 "$sparse"; }
		if ! read -r root <&"${FAM[0]}"; then
			echo "# $series: family of $n x $size MiB + $sparse GiB did not start" | tee -a "$out/sweep.log"
			return
		fi
		for m in module tool scan smem; do
			if [ "$m" = tool ] && [ "$series" != members ]; then
				continue
			fi
			if [ "$m" != module ] && [ "$m" != tool ] &&
			   { [ "$n" -gt "$base_max" ] || [ "$sparse" != 0 ]; }; then
				continue
			fi
			row "$series" "$([ -n "$mode" ] && echo exec || echo fork)" "$n" "$size" "$sparse" \
				"$m" "$(time_method "$m" "$root")"
		done
		eval "exec ${FAM[1]}>&-"
		wait "$FAM_PID" 2>/dev/null
	}
	printf 'series\tfamily\tmembers\tsize_mib\tsparse_gib\tmethod\tmedian_ms\n' > "$out/sweep.tsv"
	t_start=$(now)
	row system exec 0 0 0 exec "$(time_method exec 1)"
	for n in $members; do
		family members "" "$n" 1 0
		family members -x "$n" 1 0
	done
	for size in $sizes; do
		family resident "" 16 "$size" 0
	done
	for sparse in $sparses; do
		family sparse "" 64 16 "$sparse"
		family sparse -x 64 16 "$sparse"
	done
	# The whole booted guest.
	row system tree1 "$(ls -d /proc/[0-9]* | wc -l)" 0 0 module "$(time_method module 1)"
	# cowstat top with 10,000 tracked processes (item 4): a 10,000-member family of 1 MiB
	# each. top1 is one whole `top -n 1 -d 0.05` (start, two reads of procs 50 ms apart: a
	# rate needs two, sort, print); top11 is `top -n 11 -d 0.05`, ten refreshes more. The
	# snapshot of all 10,000 (module, and the tool's tree) needs snapshot_max_members raised
	# from its default of 1,024. The rows' members column is the number of records in procs
	# (live and exited).
	if [ -n "$top_procs" ]; then
		echo "$top_procs" > /sys/module/cowstat/parameters/snapshot_max_members
		coproc FAM { exec workloads/cowfamily "$top_procs" 1 10; }
		if read -r root <&"${FAM[0]}"; then
			n=$(grep -vc "^#" /sys/kernel/debug/cowstat/procs)
			for m in top1 top11 module tool; do
				row top fork "$n" 1 0 "$m" "$(time_method "$m" "$root")"
			done
		else
			echo "# top: family of $top_procs did not start" | tee -a "$out/sweep.log"
		fi
		eval "exec ${FAM[1]}>&-"
		wait "$FAM_PID" 2>/dev/null
	fi
	echo "# guest sweep time $(( ($(now) - t_start) / 1000000 )) s" | tee -a "$out/sweep.log"
	rmmod cowstat
	echo done > "$out/done"
	exit 0
fi

kernel=${KERNEL:-6.12}
rel=$("$top/scripts/kernels.sh" "$kernel") || { echo "kernel $kernel not installed: make setup"; exit 1; }
cd "$top" || exit 1
make -s KERNEL="$kernel" module tool || exit 1
command -v smem > /dev/null || { echo "smem missing: make setup"; exit 1; }
out=$top/build/bench
rm -rf "$out"
mkdir -p "$out"
memory=${MEMORY:-3G}
[ "${SWEEP:-0}" = 1 ] && memory=${MEMORY:-4G}
echo "# booting $rel (TCG, 2 vCPUs, $memory)..."
if [ "${SWEEP:-0}" = 1 ]; then
	# Defaults: members 1..1,024 with 102; 16 members x 1 MiB..1 GiB shared; 64 members
	# x 16 MiB with 0..1 TiB reserved each. 4G of guest RAM: 16 x 1 GiB shared needs about
	# 1 GiB + 15 x 103 MiB of frames.
	"$top/scripts/vm.sh" "$kernel" 3600 --cpus 2 \
		--memory "$memory" --qemu-opts='-accel tcg,thread=single' --rwdir="/tmp/cowstat-bench=$out" \
		--exec "scripts/bench-snapshot.sh --sweep-guest $top/build/$rel/cowstat.ko /tmp/cowstat-bench ${REPS:-3} '${SWEEP_MEMBERS:-1 2 4 8 16 32 64 102 128 256 512 1024}' '${SWEEP_SIZES:-1 4 16 64 256 1024}' '${SWEEP_SPARSE:-0 1 8 64 1024}' ${SWEEP_BASE_MAX:-64} '${SWEEP_TOP-10000}'" \
		> "$out/console.log" 2>&1
	[ -e "$out/done" ] || { tail -n 30 "$out/console.log"; echo "sweep did not finish (log: $out/console.log)"; exit 1; }
	echo "# kernel $rel" | tee "$out/kernel"
	cat "$out/sweep.tsv" "$out/sweep.log"
	exit 0
fi
"$top/scripts/vm.sh" "$kernel" 1800 --cpus 2 \
	--memory "$memory" --qemu-opts='-accel tcg,thread=single' --rwdir="/tmp/cowstat-bench=$out" \
	--exec "scripts/bench-snapshot.sh --guest $top/build/$rel/cowstat.ko /tmp/cowstat-bench ${N:-16} ${SIZE:-256} ${PCT:-10} ${REPS:-7} ${PERF:-0} ${SPARSE:-0} '${METHODS:-module scan smem exec}'" \
	> "$out/console.log" 2>&1
if [ ! -e "$out/done" ]; then
	tail -n 30 "$out/console.log"
	echo "benchmark did not finish (log: $out/console.log)"
	exit 1
fi
echo "# kernel $rel"
cat "$out/result"
if [ "${PERF:-0}" = 1 ]; then
	grep -v '^#' "$out/perf-report.txt" | grep -v '^$' | head -n 30
fi
exit 0
