#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel of "make test-debug": Debian's linux-source-6.12 of the machine's own 6.12
# line (6.12-bpo, bookworm-backports, on Debian 12; 6.12, trixie, on Debian 13), so that the
# machine's compiler builds it, configured as virtme-ng's minimal config (vng --kconfig) plus
# scripts/debug-kernel.config (KASAN, lockdep, kmemleak, fault injection, what cowstat and
# its selftests need).
#
#   debug-kernel.sh build     build it unless cached; install it (below); print its release
#   debug-kernel.sh release   print the release of the cached build and install it; exit 1
#                             if there is none
#
# Cached outside the clone, in $COWSTAT_CACHE/debug-kernel/KEY/ (default /var/cache/cowstat),
# where KEY is the source package's version, a hash of the fragment and the recipe number
# below, so a changed fragment builds a new kernel and an unchanged one is never built twice. A build
# keeps only what booting it and building modules for it need: vmlinuz, the tree made by the
# kernel's own scripts/package/install-extmod-build (about 70 MB) and the .config; the source
# tree is deleted. Measured here (2 cores): about 30 minutes to build.
#
# "Installed" means what Debian's packages give a kernel: /boot/vmlinuz-REL, /usr/src/
# linux-headers-REL and /lib/modules/REL/build, here as symbolic links into the cache, so that
# scripts/kernels.sh, the Makefile and scripts/vm.sh treat it as kernel "debug" like any other.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${COWSTAT_CACHE:-/var/cache/cowstat}/debug-kernel
frag=$top/scripts/debug-kernel.config
# Raise when a change to build() below changes what is built.
recipe=1

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

host=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
# The machine's own 6.12 line in scripts/kernels.conf: its suite has the source.
suite=$(awk -v h="$host" '!/^#/ && $1 ~ /^6\.12/ && $4 == h {print $2; exit}' "$top/scripts/kernels.conf")
[ -n "$suite" ] || die "no 6.12 line of this machine's release (${host:-unknown}) in scripts/kernels.conf"

# The private apt configuration of scripts/setup.sh, which knows every suite.
papt=$top/.cache/apt
papt_opts=(-o "Dir::Etc::SourceList=$papt/sources.list" -o "Dir::Etc::SourceParts=$papt/sources.list.d"
	-o "Dir::State::Lists=$papt/lists" -o "Dir::Cache=$papt" -o "Dir::Cache::Archives=$papt/archives"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")

# The source package's version in the suite, from setup's lists (no network).
src_version() {
	[ -e "$papt/sources.list" ] || die "no package lists: run 'make setup' first"
	apt-cache "${papt_opts[@]}" show "linux-source-6.12/$suite" 2>/dev/null |
		awk '/^Version:/ {print $2; exit}'
}

key() {
	local v
	v=$(src_version)
	[ -n "$v" ] || die "linux-source-6.12 not found in $suite: run 'make setup'"
	echo "$v-$(sha256sum < "$frag" | cut -c1-12)-$recipe" | tr '~' '_'
}

# Symbolic links that make the cached build look installed (idempotent).
install_links() {
	local d=$1 rel
	rel=$(cat "$d/release")
	ln -sfn "$d/vmlinuz" "/boot/vmlinuz-$rel" &&
		ln -sfn "$d/headers" "/usr/src/linux-headers-$rel" &&
		mkdir -p "/lib/modules/$rel" &&
		ln -sfn "/usr/src/linux-headers-$rel" "/lib/modules/$rel/build" ||
		die "cannot install $rel's links in /boot, /usr/src and /lib/modules"
	echo "$rel"
}

# Fail with the names of fragment lines that olddefconfig did not keep.
check_config() {
	local cfg=$1 line name want missing=
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		name=${line%%=*}
		want=${line#*=}
		grep -qxF "$name=$want" "$cfg" || missing="$missing $name"
	done < "$frag"
	[ -z "$missing" ] || die "the config lost:$missing (a dependency is missing; see $cfg)"
}

build() {
	local k d new src deb log jobs
	k=$(key) || exit 1
	d=$cache/$k
	if [ -e "$d/.complete" ]; then
		install_links "$d"
		return
	fi
	for p in flex bison bc vng; do
		command -v "$p" > /dev/null || die "$p not found: run 'make setup' first"
	done
	new=$d.new
	rm -rf "$new"
	mkdir -p "$new" || die "cannot create $new"
	log=$new/build.log
	echo "debug-kernel: building linux-source-6.12 $(src_version) from $suite with KASAN, lockdep, kmemleak (about 30 minutes; log: $log)" >&2
	(cd "$new" && apt-get "${papt_opts[@]}" download "linux-source-6.12/$suite" >> "$log" 2>&1) ||
		die "downloading linux-source-6.12/$suite failed (details: $log)"
	deb=$(ls "$new"/linux-source-6.12_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "downloading linux-source-6.12/$suite produced no .deb"
	mkdir -p "$new/src"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-6.12.tar.xz |
		tar -xJ -C "$new/src" --strip-components=1 || die "cannot unpack $deb"
	rm -f "$deb"
	src=$new/src
	jobs=$(nproc)
	# vng --kconfig writes virtme-ng's minimal .config, then the fragment is merged over it (vng's
	# own items, debug information among them, would override a fragment given to vng);
	# olddefconfig resolves the dependencies, and every fragment line must have survived.
	(cd "$src" && vng --kconfig >> "$log" 2>&1 &&
		scripts/kconfig/merge_config.sh -m .config "$frag" >> "$log" 2>&1 &&
		make olddefconfig >> "$log" 2>&1) || die "configuring failed (details: $log)"
	check_config "$src/.config"
	(cd "$src" && nice make -j"$jobs" bzImage modules >> "$log" 2>&1) ||
		die "building failed (details: $log)"
	(cd "$src" && make run-command KBUILD_RUN_COMMAND="\$(srctree)/scripts/package/install-extmod-build $new/headers" >> "$log" 2>&1) ||
		die "installing the module build tree failed (details: $log)"
	cp "$src/arch/x86/boot/bzImage" "$new/vmlinuz" && cp "$src/.config" "$new/config" &&
		cp "$src/include/config/kernel.release" "$new/release" || die "cannot copy the kernel out of $src"
	rm -rf "$src"
	date -u +%FT%TZ > "$new/.complete"
	# Only this key's build is kept.
	for old in "$cache"/*/; do
		old=${old%/}
		[ "$old" = "$new" ] || [ "$old" = "$d" ] || rm -rf "$old"
	done
	rm -rf "$d"
	mv "$new" "$d" || die "cannot move $new to $d"
	sed -i "s|$new|$d|g" "$d/build.log"
	install_links "$d"
}

case "${1:-}" in
build)
	build
	;;
release)
	k=$(key) || exit 1
	[ -e "$cache/$k/.complete" ] || exit 1
	install_links "$cache/$k"
	;;
*)
	echo "usage: debug-kernel.sh build|release" >&2
	exit 2
	;;
esac
