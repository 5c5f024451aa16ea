#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A Debian root file system of another release, for the kernel lines whose headers need that
# release's compiler and libc (Debian 13's kernels, built with gcc-14 against trixie's libc, on
# a Debian 12 machine; or Debian 12's on a Debian 13 machine). The module is built in it with
# chroot, and virtme-ng boots the kernel with it as the guest's file system (vng --root).
#
#   root.sh path RELEASE            print where the root of RELEASE is (or would be)
#   root.sh make RELEASE            create it if missing (debootstrap minbase), or bring its
#                                   packages up to date; print its path
#   root.sh check RELEASE           exit 0 if it is complete and has today's package list
#   root.sh run RELEASE CMD...      run CMD in it (chroot, with /proc, /sys and /dev mounted,
#                                   and the project tree bind-mounted at its own path)
#
# Roots are cached outside the clone, in $COWSTAT_CACHE (default /var/cache/cowstat), so a
# fresh clone (CI) reuses them: roots/RELEASE/, about 1.2 GB each with two kernels. Creating
# one takes about 3 minutes here; checking one that is complete, a second. A root being made
# is built in roots/RELEASE.new/ and renamed when complete, so an interrupted run leaves
# nothing half made under the final name.
#
# The packages a root gets: what building the module, sparse, and running the selftests need
# in the guest (the tool and selftests are built on the host; glibc runs them on a newer
# release, and cowstat's own libraries, libdw and libelf, come with libdw-dev).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${COWSTAT_CACHE:-/var/cache/cowstat}
mirror=http://deb.debian.org/debian
root_pkgs="gcc make libc6-dev kmod busybox-static python3 python3-dbg dwarves sparse xz-utils
	linux-perf bpftrace trace-cmd libdw-dev procps file ca-certificates prometheus gnuplot-nox"

die() {
	echo "root: $*" >&2
	exit 1
}

rootdir() {
	echo "$cache/roots/$1"
}

# Run in the root with the pseudo file systems that apt, dpkg and kbuild need, and the project
# tree at its own path (module builds write build/ there); all unmounted after, also when
# interrupted. Concurrent runs in one root (two worktrees) each mount their own, stacked: sysfs
# is bind-mounted, since a second sysfs mount on the same point fails ("already mounted").
in_root() {
	local r=$1 rc=1 m mounted=
	shift
	mkdir -p "$r$top" || return 1
	trap 'for m in $mounted; do umount "$m"; done; exit 130' INT TERM
	if mount -t proc proc "$r/proc"; then
		mounted="$r/proc"
		if mount --bind /sys "$r/sys"; then
			mounted="$r/sys $mounted"
			if mount --bind /dev "$r/dev"; then
				mounted="$r/dev $mounted"
				# apt and dpkg want a pty for their logs.
				mount --bind /dev/pts "$r/dev/pts" && mounted="$r/dev/pts $mounted"
				if mount --bind "$top" "$r$top"; then
					mounted="$r$top $mounted"
					env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
						DEBIAN_FRONTEND=noninteractive INITRD=No \
						chroot "$r" sh -c 'cd "$0" && exec "$@"' "$top" "$@"
					rc=$?
				fi
			fi
		fi
	fi
	for m in $mounted; do
		umount "$m" || umount -l "$m"
	done
	trap - INT TERM
	return $rc
}

# The stamp of a complete root: its package list, so that a longer list installs the rest.
stamp() {
	echo $root_pkgs
}

check_root() {
	local r
	r=$(rootdir "$1")
	[ -e "$r/.complete" ] && [ "$(cat "$r/.complete")" = "$(stamp)" ]
}

sources() {
	local rel=$1
	cat <<EOF
deb $mirror $rel main
deb $mirror $rel-updates main
deb $mirror $rel-backports main
deb http://deb.debian.org/debian-security $rel-security main
EOF
}

make_root() {
	local rel=$1 r new log
	r=$(rootdir "$rel")
	new=$r.new
	log=$cache/root-$rel.log
	mkdir -p "$cache/roots" || die "cannot create $cache/roots: run as root"
	: > "$log"
	if [ ! -e "$r/.complete" ]; then
		command -v debootstrap > /dev/null || die "debootstrap not installed (make setup installs it)"
		echo "root: creating a Debian $rel root in $r (debootstrap, a few minutes)" >&2
		# --one-file-system: never into a mount that an interrupted run left behind.
		rm -rf --one-file-system "$new" "$r"
		debootstrap --variant=minbase "$rel" "$new" "$mirror" >> "$log" 2>&1 ||
			die "debootstrap $rel failed (details: $log)"
		sources "$rel" > "$new/etc/apt/sources.list"
		in_root "$new" apt-get update >> "$log" 2>&1 ||
			die "apt-get update in the $rel root failed (details: $log)"
		# shellcheck disable=SC2086
		in_root "$new" apt-get install -y --no-install-recommends $root_pkgs >> "$log" 2>&1 ||
			die "installing the $rel root's packages failed (details: $log)"
		stamp > "$new/.complete"
		mv "$new" "$r" || die "cannot rename $new to $r"
	elif ! check_root "$rel"; then
		echo "root: installing the $rel root's new packages" >&2
		{ in_root "$r" apt-get update && in_root "$r" apt-get install -y --no-install-recommends \
			$root_pkgs; } >> "$log" 2>&1 ||
			die "installing the $rel root's packages failed (details: $log)"
		stamp > "$r/.complete"
	fi
	echo "$r"
}

cmd=${1:-}
rel=${2:-}
[ -n "$rel" ] || die "usage: root.sh path|make|check|run RELEASE [CMD...]"
case "$cmd" in
path) rootdir "$rel" ;;
make) make_root "$rel" ;;
check) check_root "$rel" ;;
run)
	shift 2
	r=$(rootdir "$rel")
	[ -e "$r/.complete" ] || die "no $rel root at $r: run 'make setup'"
	in_root "$r" "$@"
	;;
*) die "unknown command '$cmd' (path, make, check, run)" ;;
esac
