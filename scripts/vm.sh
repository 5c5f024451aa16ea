#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot target kernel NAME (scripts/kernels.conf) under QEMU with virtme-ng and run a command in
# the guest; every guest of the project (tests, demo, benchmarks) starts here.
#
#   vm.sh NAME TIMEOUT VNG-ARGS...     e.g. vm.sh 7.x 900 --cpus 2 --exec "scripts/guest-run.sh ..."
#
# A kernel of the machine's own Debian release boots with the machine's file system, read-only,
# as virtme-ng does by default. A kernel of another release (Debian 13's, on a Debian 12
# machine) boots with that release's cached root as the guest's file system (vng --root), so
# its modules, libc and programs (python3, perf, bpftrace) are the release's own; the project
# tree is shared into it read-only at its own path, and the guest starts there.
#
# Software emulation always (no KVM here). One QEMU at a time on this machine: the guest waits
# for /tmp/cowstat-qemu.lock (do not call this under that lock yourself: it would deadlock).
# The exit status is vng's, or 124 after TIMEOUT seconds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
name=${1:-}
timeout=${2:-}
[ -n "$name" ] && [ -n "$timeout" ] || { echo "usage: vm.sh NAME TIMEOUT VNG-ARGS..." >&2; exit 2; }
shift 2
rel=$("$here/kernels.sh" "$name") || { echo "vm: kernel $name is not installed: run 'make setup'" >&2; exit 1; }
root=$("$here/kernels.sh" -r "$name")
if [ "$root" = / ]; then
	set -- --run "/boot/vmlinuz-$rel" "$@"
	# The debug kernel's guest is ten times slower; udev's coldplug outlasted udevadm settle
	# there, so it gets a udevd that only makes the virtio-ports links virtme-init needs
	# (scripts/guest-udevd/systemd-udevd says more). COWSTAT_GUEST_UDEVD=1 gives it to any
	# kernel (to try it on a fast one).
	[ "$name" = debug ] || [ "${COWSTAT_GUEST_UDEVD:-}" = 1 ] &&
		set -- --rodir="/usr/lib/systemd=$here/guest-udevd" "$@"
else
	# The guest mounts the shared tree and every --rwdir=GUEST=HOST over directories of the
	# (read-only) root: they must exist there.
	mkdir -p "$root$top"
	for a in "$@"; do
		case "$a" in
		--rwdir=*=* | --rodir=*=*) a=${a#*=}; mkdir -p "$root${a%%=*}" ;;
		esac
	done
	set -- --run "$root/boot/vmlinuz-$rel" --root "$root" --rodir="$top=$top" --cwd "$root$top" "$@"
fi
exec flock /tmp/cowstat-qemu.lock timeout "$timeout" vng --disable-kvm "$@"
