#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print "NAME RELEASE SUITE ROOT" for every target kernel of scripts/kernels.conf that is
# installed (headers tree and bootable image both present), where ROOT is the file system it
# is built and booted with: / for the machine's own Debian release, else the cached root of
# scripts/root.sh. With NAME as argument, print only that kernel's release; with -r NAME, its
# ROOT. Exit 1 if a requested kernel is not installed. NAME "debug" is the debug kernel.
set -u
here=$(dirname "$0")
# COWSTAT_KERNELS_CONF: another kernel list (tests use it).
conf=${COWSTAT_KERNELS_CONF:-$here/kernels.conf}
what=release
if [ "${1:-}" = -r ]; then
	what=root
	shift
fi
want=${1:-}
rc=0
# "debug": the debug kernel of scripts/debug-kernel.sh, built with the machine's compiler (root
# /), installed only once built (it is not in the list, which says what set-up installs).
if [ "$want" = debug ]; then
	rel=$("$here/debug-kernel.sh" release 2>/dev/null) || exit 1
	[ "$what" = root ] && echo / || echo "$rel"
	exit 0
fi
host=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")

# Newest release matching a glob pattern installed under root $1, or nothing.
installed_release() {
	local r=${1%/} d rel best=
	for d in "$r"/usr/src/linux-headers-$2; do
		[ -e "$d/Makefile" ] || continue
		rel=${d#"$r"/usr/src/linux-headers-}
		[ -e "$r/boot/vmlinuz-$rel" ] && [ -d "$r/lib/modules/$rel" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n 1)
	done
	printf '%s' "$best"
}

while read -r name suite pattern release; do
	case "$name" in ''|'#'*) continue ;; esac
	[ -z "$want" ] || [ "$want" = "$name" ] || continue
	# No RELEASE column (an older list): the machine's own.
	if [ -z "$release" ] || [ "$release" = "$host" ]; then
		root=/
	else
		root=$("$here/root.sh" path "$release")
	fi
	rel=$(installed_release "$root" "$pattern")
	if [ -z "$rel" ]; then
		rc=1
		continue
	fi
	if [ -z "$want" ]; then
		echo "$name $rel $suite $root"
	elif [ "$what" = root ]; then
		echo "$root"
	else
		echo "$rel"
	fi
done < "$conf"
exit $rc
