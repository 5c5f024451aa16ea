#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A sparse that understands the headers of every target kernel. Kernel headers from 6.14 on
# use __typeof_unqual__, which sparse knows from 0.6.5; Debian 12 and 13 have 0.6.4. With it
# the 7.x module would not be checked at all (kbuild turns C=2 off with only a make warning).
#
#   sparse.sh path RELEASE    print the sparse to use for kernels built in RELEASE's userland
#                             (the machine's own, or the root's of scripts/root.sh)
#   sparse.sh check RELEASE   exit 0 if that sparse parses the newer C (scripts/checker-valid.sh)
#   sparse.sh make RELEASE    if not, build the sparse of Debian's next release (forky) from
#                             its source package, the program alone (about 20 s)
#
# A built sparse lives outside the clone: $COWSTAT_CACHE/sparse/bin/ for the machine, and the
# root's /usr/local/bin/ for a root (its libc). Nothing is installed in the machine's /usr.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cache=${COWSTAT_CACHE:-/var/cache/cowstat}
host=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
cmd=${1:-}
rel=${2:-}
[ -n "$rel" ] || { echo "usage: sparse.sh path|check|make RELEASE" >&2; exit 2; }

die() {
	echo "sparse: $*" >&2
	exit 1
}

# Run in RELEASE's userland: the machine, or its root.
run() {
	if [ "$rel" = "$host" ]; then
		"$@"
	else
		"$here/root.sh" run "$rel" "$@"
	fi
}

# The directory a built sparse goes to, as seen from that userland.
bindir() {
	if [ "$rel" = "$host" ]; then
		echo "$cache/sparse/bin"
	else
		echo /usr/local/bin
	fi
}

path() {
	local b
	b=$(bindir)/sparse
	if [ "$rel" = "$host" ]; then
		[ -x "$b" ] && echo "$b" || echo sparse
	else
		[ -x "$("$here/root.sh" path "$rel")$b" ] && echo "$b" || echo sparse
	fi
}

check() {
	[ "$(run "$here/checker-valid.sh" "$(path)")" = 1 ]
}

build() {
	local d=/var/tmp/cowstat-sparse log=$cache/sparse-$rel.log
	mkdir -p "$cache" || die "cannot create $cache"
	: > "$log"
	echo "sparse: building sparse for $rel from Debian forky's source package" >&2
	# The source is signature-checked as always; Valid-Until is not, since the archive a
	# machine reaches may be a snapshot older than the next release's short-lived Release file.
	run sh -c "set -e; rm -rf $d; mkdir -p $d/lists/partial; cd $d
		echo 'deb-src http://deb.debian.org/debian forky main' > sources.list
		o='-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=/nonexistent
		   -o Dir::State::Lists=$d/lists -o APT::Sandbox::User=root
		   -o Acquire::Check-Valid-Until=false'
		apt-get \$o update; apt-get \$o source --download-only sparse
		tar -xzf sparse_*.orig.tar.gz; cd sparse-*/
		make -j2 HAVE_LIBXML=no HAVE_SQLITE=no HAVE_GTK=no HAVE_LLVM=no sparse
		mkdir -p $(bindir); install -m 0755 sparse $(bindir)/sparse
		cd /; rm -rf $d" >> "$log" 2>&1 || die "building sparse for $rel failed (details: $log)"
	check || die "the sparse built for $rel still fails scripts/checker-valid.sh (details: $log)"
}

case "$cmd" in
path) path ;;
check) check ;;
make) check || build ;;
*) die "unknown command '$cmd' (path, check, make)" ;;
esac
