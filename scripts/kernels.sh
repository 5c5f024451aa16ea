#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print "NAME RELEASE" for every target kernel of scripts/kernels.conf that is installed
# (headers tree and bootable image both present). With NAME as argument, print only that
# kernel's release. Exit 1 if a requested kernel is not installed.
set -u
# COWSTAT_KERNELS_CONF: another kernel list (tests use it).
conf=${COWSTAT_KERNELS_CONF:-$(dirname "$0")/kernels.conf}
want=${1:-}
rc=0

# Newest installed release matching a glob pattern, or nothing.
installed_release() {
	local d rel best=
	for d in /usr/src/linux-headers-$1; do
		[ -e "$d/Makefile" ] || continue
		rel=${d#/usr/src/linux-headers-}
		[ -e "/boot/vmlinuz-$rel" ] && [ -d "/lib/modules/$rel" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n 1)
	done
	printf '%s' "$best"
}

while read -r name suite pattern; do
	case "$name" in ''|'#'*) continue ;; esac
	[ -z "$want" ] || [ "$want" = "$name" ] || continue
	rel=$(installed_release "$pattern")
	if [ -z "$rel" ]; then
		rc=1
		continue
	fi
	if [ -n "$want" ]; then
		echo "$rel"
	else
		echo "$name $rel $suite"
	fi
done < "$conf"
exit $rc
