#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test command (README): set-up, host tests, lint, then for each target kernel: build the
# module (W=1, sparse), boot the kernel under QEMU with virtme-ng, load the module, run every
# selftest, unload, scan the kernel log. Prints kselftest TAP per section and ends with
#   N passed, N failed, N skipped
# Exit status 0 only if nothing failed.
#
# QEMU configuration, chosen deliberately: software emulation (no KVM on our machines), 2 vCPUs
# so that the guest is SMP and per-CPU and cross-CPU paths run, but single-threaded TCG
# (-accel tcg,thread=single). QEMU 7.2's multi-threaded TCG crashes guests when kernel text
# is patched live (module load/unload, kprobe arming) while the other vCPU executes it
# (../shared/kernel-notes.md, section d: 6 crashes/hangs in 8 runs with MTTCG; 0 in 16 with
# thread=single). A single host thread runs both vCPUs round-robin, so the guest still sees
# interleavings across two CPUs, only not truly parallel ones.
#
# The debug kernel (scripts/debug-kernel.sh: KASAN, lockdep, kmemleak, fault injection) is
# tested after the others whenever its build is cached; COWSTAT_DEBUG_KERNEL=build ("make
# test-debug") builds it first if it is not (about 30 minutes here). Its guest gets time
# limits 10 times longer (COWSTAT_TIME_SCALE: the harness timeouts, the tests' waits), the
# same exact counts, and the debug checks of guest-run.sh.
#
# Environment: KERNELS="6.1 6.12" (names from scripts/kernels.conf, and "debug") restricts the
# kernels; VM_TIMEOUT (seconds, default 1800; 3600 for the debug kernel) bounds each guest;
# COWSTAT_ONLY="cow_test walk_test" runs only those selftests in the guest and leaves out the
# Debian package test (for development; the full run is the default).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=$top/build/test
vm_timeout=${VM_TIMEOUT:-1800}
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)

# Set-up first: a missing install step fails here, with its own one-line reason.
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

results=$out/all.tap
: > "$results"

# Print a TAP section and append it to the file the summary is counted from.
section() {
	echo "# ==== $1"
	echo "# ==== $1" >> "$results"
}
tap() {
	echo "$*"
	echo "$*" >> "$results"
}
n=0
check() {
	local ok=$1 what=$2 log=${3:-}
	n=$((n + 1))
	if [ "$ok" = 0 ]; then
		tap "ok $n cowstat: $what"
	else
		tap "not ok $n cowstat: $what"
		[ -n "$log" ] && [ -s "$log" ] && head -n 40 "$log" | sed 's/^/#   /' | tee -a "$results"
	fi
}

section "host"
tap "TAP version 13"
make -s tool selftests > "$out/host-build.log" 2>&1
check $? "tool and selftests build (-Wall -Wextra)" "$out/host-build.log"
! grep -q 'warning:' "$out/host-build.log"
check $? "tool and selftests build without warnings" "$out/host-build.log"

make -s style > "$out/checkpatch.log" 2>&1
check $? "checkpatch.pl --strict clean (module, include, tools)" "$out/checkpatch.log"

for t in host-tests/*_test host-tests/*_test.sh; do
	[ -x "$t" ] || continue
	"$t" > "$out/host-$(basename "$t").log" 2>&1
	rc=$?
	sed 's/^/# /' "$out/host-$(basename "$t").log" | tee -a "$results"
	n=$((n + 1))
	if [ $rc = 0 ]; then
		tap "ok $n selftests: cowstat: $(basename "$t")"
	else
		grep -q '^not ok ' "$out/host-$(basename "$t").log" ||
			tap "# not ok 0 $(basename "$t") exited with status $rc without a failing test"
		tap "not ok $n selftests: cowstat: $(basename "$t") # exit=$rc"
	fi
done
tap "1..$n"

if [ "${COWSTAT_DEBUG_KERNEL:-}" = build ]; then
	section "debug kernel"
	tap "TAP version 13"
	n=0
	scripts/debug-kernel.sh build > "$out/debug-kernel.log" 2>&1
	check $? "debug kernel built or cached (scripts/debug-kernel.sh)" "$out/debug-kernel.log"
	tap "1..$n"
fi

# What the debug kernel runs in "make test" (so CI): the selftests of the fault path's own
# life (load and unload, the fault hooks, control, exit races, allocation failures), where
# KASAN, lockdep and kmemleak find what the other kernels cannot. Everything else runs on the
# Debian kernels; on the debug kernel (about ten times slower) it would take CI past its 90
# minutes (measured: the four Debian kernels take about 60 of them). "make test-debug" runs
# every selftest there, the snapshot's and the table's included.
debug_set="load_test cow_test control_test gone_test inject_test"
# What 6.12-bpo leaves out in "make test": the four selftests of scale and of the tools on a
# live module (storm_test, table_scale_test, export_test.py, trace_test.py: 10-13 minutes of
# its guest). They run on 6.1, 6.12 and 7.x; 6.12-bpo is the same 6.12 as Debian 13's, built
# by another compiler, and runs every selftest of the fault classes and the module's paths.
# "KERNELS=6.12-bpo make test" alone runs them all there.
bpo_heavy="storm_test table_scale_test export_test.py trace_test.py"
bpo_set=
for t in selftests/*_test selftests/*_test.py; do
	[ -x "$t" ] || continue
	case " $bpo_heavy " in *" $(basename "$t") "*) ;; *) bpo_set="$bpo_set $(basename "$t")" ;; esac
done
default_kernels=$(awk '!/^#/ && NF {print $1}' scripts/kernels.conf)
scripts/kernels.sh debug > /dev/null && default_kernels="$default_kernels debug"
kernels=${KERNELS:-$default_kernels}
for k in $kernels; do
	n=0
	rel=$(scripts/kernels.sh "$k")
	section "kernel $k ($rel)"
	tap "TAP version 13"
	if [ -z "$rel" ]; then
		check 1 "kernel $k installed"
		tap "1..$n"
		continue
	fi
	kdir=$top/build/$rel
	rm -rf "$kdir"
	t0=$(date +%s)
	make -s KERNEL="$k" W=1 module test-module > "$out/build-$k.log" 2>&1
	check $? "module builds for $rel" "$out/build-$k.log"
	! grep -Eq 'warning:|error:' "$out/build-$k.log"
	check $? "module build warning-free with W=1" "$out/build-$k.log"
	# Sparse over every source file (C=2 checks even what needs no recompiling); a CHECK line
	# per source proves it ran.
	make KERNEL="$k" check > "$out/sparse-$k.log" 2>&1
	rc=$?
	for f in module/*.c; do
		grep -q "CHECK .*/$(basename "$f")\$" "$out/sparse-$k.log" || rc=1
	done
	[ $rc = 0 ] && ! grep -Eq 'warning:|error:' "$out/sparse-$k.log"
	check $? "sparse (C=2) clean on every module source" "$out/sparse-$k.log"
	if [ ! -e "$kdir/cowstat.ko" ]; then
		tap "1..$n"
		continue
	fi

	vmout=$out/vm-$k
	mkdir -p "$vmout"
	rm -rf "$vmout/pictures"
	genv= timeout=$vm_timeout
	if [ "$k" = debug ]; then
		genv="COWSTAT_TIME_SCALE=10 COWSTAT_DEBUG_KERNEL=1"
		timeout=${VM_TIMEOUT:-3600}
	fi
	only=${COWSTAT_ONLY:-}
	if [ "$k" = 6.12-bpo ] && [ -z "$only" ] && [ -z "${KERNELS:-}" ]; then
		only=${bpo_set# }
		tap "# 6.12-bpo in make test leaves out $bpo_heavy (run on 6.1, 6.12, 7.x)"
	fi
	if [ "$k" = debug ] && [ -z "$only" ] && [ "${COWSTAT_DEBUG_KERNEL:-}" != build ]; then
		only=$debug_set
		tap "# the debug kernel in make test runs the fault path's selftests only: $only" \
			"(make test-debug runs all)"
	fi
	# One QEMU at a time on this machine: guests of concurrent runs queue on a lock (vm.sh).
	# A boot whose init gave up before the tests (udev made no virtio-ports in time; it
	# happened to the debug kernel here) is tried once more; any other failure is the result.
	for try in 1 2; do
		echo "# booting $rel under QEMU (TCG, 2 vCPUs, thread=single)..."
		scripts/vm.sh "$k" "$timeout" --cpus 2 --memory 2G \
			--qemu-opts='-accel tcg,thread=single' --verbose \
			--rwdir="/tmp/cowstat-out=$vmout" \
			--exec "$genv scripts/guest-run.sh $kdir/cowstat.ko /tmp/cowstat-out $n '$only'" \
			> "$out/console-$k.log" 2>&1
		rc=$?
		[ "$try" = 1 ] && [ ! -s "$vmout/tap" ] &&
			grep -q 'cannot find script I/O ports' "$out/console-$k.log" || break
		tap "# the guest's init gave up before the tests (no /dev/virtio-ports): booting again"
	done
	tap "# time: kernel $k $(($(date +%s) - t0)) s (build, sparse and guest)"
	if [ -e "$vmout/tap" ]; then
		grep -Ev '^(TAP version|1\.\.)' "$vmout/tap" | tee -a "$results"
		n=$((n + $(grep -Ec '^(not )?ok ' "$vmout/tap")))
	fi
	# The pictures the guest drew, opened in the host's browser.
	if [ -d "$vmout/pictures" ]; then
		host-tests/pictures_test.py "$vmout/pictures" > "$out/pictures-$k.log" 2>&1
		rc=$?
		sed 's/^/# /' "$out/pictures-$k.log" | grep -Ev '^# (TAP version|1\.\.)' | tee -a "$results"
		check $rc "pictures of the $k guest open in chromium (host-tests/pictures_test.py)" \
			"$out/pictures-$k.log"
	fi
	if [ ! -e "$vmout/done" ]; then
		tail -n 60 "$out/console-$k.log" > "$out/console-tail-$k.log"
		why="crash, hang or timeout ${timeout}s"
		grep -q 'cannot find script I/O ports' "$out/console-$k.log" &&
			why="its init gave up before the tests: udev made no /dev/virtio-ports in time"
		check 1 "guest ran to the end (vng exit $rc; $why)" "$out/console-tail-$k.log"
	fi
	tap "1..$n"
done

# The Debian packages, installed in Debian 12 and 13 roots with DKMS and booted (deb-test.sh).
if [ "${KERNELS:-}" != debug ] && [ -z "${COWSTAT_ONLY:-}" ]; then
	section "debian packages"
	t0=$(date +%s)
	scripts/deb-test.sh 2>&1 | tee -a "$results"
	tap "# time: debian packages $(($(date +%s) - t0)) s"
fi

# Count leaf results: check lines and the harness tests nested under "# ". A binary's own
# summary line ("selftests: cowstat: X") is not counted again.
counts=$(grep -E '^(# )?(not )?ok [0-9]+ ' "$results" | grep -v ' selftests: cowstat: ' |
	awk '/^(# )?not ok / {f++; next} /# SKIP/ {s++; next} {p++}
	     END {printf "%d %d %d", p, f, s}')
read -r passed failed skipped <<< "$counts"
echo "# total time $(( $(date +%s) - start ))s; logs in $out"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
