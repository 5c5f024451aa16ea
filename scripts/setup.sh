#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Idempotent set-up for building and testing cowstat on Debian 12 or 13 (run as root).
#
# Installs what is missing, from Debian's archive only, with package names that exist on both
# releases (setup_test.sh checks them in a Debian 13 root every run):
#   - build and lint tools: gcc, make, pahole (the 6.12 headers need it), sparse, kmod, groff
#     (the man page test), debootstrap (the roots of other releases);
#   - smem, the baseline of the snapshot benchmark (scripts/bench-snapshot.sh), and gnuplot
#     (gnuplot-nox), which draws its sweep (make bench-snapshot-plot);
#   - qemu-system-x86 and virtme-ng (vng; from trixie, all its dependencies are in bookworm);
#   - bpftrace and perf (linux-perf), which "make bench" runs in the guests, and trace-cmd: the
#     trace event examples are tested with all three;
#   - libdw-dev (elfutils), with which "cowstat trace" symbolises code addresses;
#   - debhelper, dh-dkms, dkms and lintian: make deb and its test (scripts/deb-test.sh);
#   - prometheus (with promtool): the test of "cowstat export" scrapes it with a real server;
#   - python3-dbg: debug information for Debian's python3 (3.11 on 12, 3.13 on 13), for the
#     Python example of "cowstat trace" (apt upgrades python3 to the same version if needed);
#   - image and headers of every kernel in scripts/kernels.conf. A kernel of the machine's own
#     release is installed on the machine; one of another release (Debian 13's kernels on a
#     Debian 12 machine) in a root of that release, made with debootstrap and cached outside
#     the clone (scripts/root.sh; /var/cache/cowstat/roots/), where its kbuild programs and
#     compiler (gcc-14) run;
#   - a sparse that reads 7.x headers, where a release's own is too old (scripts/sparse.sh);
#   - chromium, the headless browser that opens the pictures the tests draw (host-tests/);
#   - from the npm registry (with the machine's npm), d3-flame-graph and the d3 modules it needs,
#     which "cowstat trace --svg" embeds, as tools/js/package-lock.json pins them: installed once
#     under /var/cache/cowstat/npm/ (outside the clone), linked from .cache/node_modules;
#   - from Debian's linux-source-6.1 package, only the kselftest headers and checkpatch.pl with
#     its data files, extracted into .cache/linux-tools/.
# Packages from suites other than the machine's are fetched through a private apt configuration
# under .cache/apt/ and installed as local .deb files: the machine's apt sources are not touched.
# When everything is present it only checks, and finishes in a second or two.
#
# On failure it prints one line saying what failed and what to do, and exits 1.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=$top/.cache
log=$cache/setup.log
tools=$cache/linux-tools
papt=$cache/apt
# COWSTAT_KERNELS_CONF: another kernel list (tests use it to provoke failures).
kconf=${COWSTAT_KERNELS_CONF:-$top/scripts/kernels.conf}

die() {
	echo "setup: $*" >&2
	exit 1
}

# Run a command with its output in the log; on failure, die with the given one-line reason.
quiet() {
	local why=$1
	shift
	echo "+ $*" >> "$log"
	"$@" >> "$log" 2>&1 || die "$why (details: $log)"
}

host_pkgs="make gcc libc6-dev perl xz-utils kmod pahole sparse qemu-system-x86 busybox-static python3 file bpftrace linux-perf smem libdw-dev trace-cmd python3-dbg gnuplot-nox groff-base debootstrap flex bison bc libelf-dev libssl-dev debhelper dh-dkms dkms lintian prometheus chromium"

tools_present() {
	[ -e "$tools/kselftest_harness.h" ] && [ -e "$tools/kselftest.h" ] &&
		[ -e "$tools/checkpatch.pl" ] && [ -e "$tools/spelling.txt" ] &&
		[ -e "$tools/const_structs.checkpatch" ]
}

missing_host_pkgs() {
	local p
	for p in $host_pkgs virtme-ng; do
		dpkg-query -W -f '${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed ||
			printf '%s ' "$p"
	done
}

# Every root of another release is complete and has its packages (root.sh check).
roots_present() {
	local r
	for r in $(other_releases); do
		"$top/scripts/root.sh" check "$r" || return 1
	done
}

# The releases whose kernels' headers need a newer sparse (their Makefile validates it with
# scripts/checker-valid.sh: 6.14 and later), one a line.
releases_needing_sparse() {
	local name suite pattern release rel r
	while read -r name suite pattern release; do
		case "$name" in ''|'#'*) continue ;; esac
		rel=$("$top/scripts/kernels.sh" "$name") || continue
		r=$("$top/scripts/kernels.sh" -r "$name")
		grep -qs 'checker-valid.sh' "${r%/}/usr/src/linux-headers-$rel/Makefile" \
			"${r%/}/usr/src/linux-headers-${rel%-amd64}-common/Makefile" && echo "${release:-$host}"
	done < "$kconf" | sort -u
}

sparse_present() {
	local r
	for r in $(releases_needing_sparse); do
		"$top/scripts/sparse.sh" check "$r" || return 1
	done
}

# The Debian releases of scripts/kernels.conf other than the machine's.
other_releases() {
	awk -v host="$host" '!/^#/ && NF >= 4 && $4 != host {print $4}' "$kconf" | sort -u
}

# The npm packages of tools/js/, once per lock file's content.
npm_dir=/var/cache/cowstat/npm/$(sha256sum "$top/tools/js/package-lock.json" | cut -c 1-16)
npm_present() {
	[ -e "$npm_dir/.complete" ] && [ "$(readlink "$cache/node_modules")" = "$npm_dir/node_modules" ]
}

everything_present() {
	[ -z "$(missing_host_pkgs)" ] && "$top/scripts/kernels.sh" > /dev/null && tools_present &&
		roots_present && sparse_present && npm_present
}

host=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
# --packages: print the machine's packages set-up installs, for the check on other releases.
if [ "${1:-}" = --packages ]; then
	echo "$host_pkgs"
	exit 0
fi

mkdir -p "$cache" 2> /dev/null || die "cannot create $cache: run as root"
# Not writable (not root): keep the log elsewhere so that the reason still gets out.
{ : > "$log"; } 2> /dev/null || log=$(mktemp)
if everything_present; then
	echo "setup: everything present"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "missing: $(missing_host_pkgs)$( "$top/scripts/kernels.sh" > /dev/null || echo 'target kernels ')- run as root so set-up can install them"
command -v apt-get > /dev/null || die "apt-get not found: set-up needs a Debian 12 or 13 machine"
case "$host" in
bookworm|trixie) ;;
*) die "this is '${host:-unknown}', not Debian 12 (bookworm) or 13 (trixie): set-up knows only those" ;;
esac
export DEBIAN_FRONTEND=noninteractive
# Installing a kernel image must not build an initramfs: virtme-ng boots without one.
export INITRD=No

# Private apt configuration for the suites this machine does not use.
mkdir -p "$papt/lists/partial" "$papt/archives/partial" "$papt/sources.list.d" "$papt/debs" ||
	die "cannot create $papt"
# Used to look packages up and to download single named packages (no dependency resolution
# across releases happens with it): virtme-ng from trixie, linux-source-6.1 from bookworm, the
# kernels' metapackages of the backports suites.
archive=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
for suite in bookworm bookworm-backports trixie trixie-backports; do
	echo "deb [signed-by=$keyring] $archive $suite main"
done > "$papt/sources.list"
papt_opts=(-o "Dir::Etc::SourceList=$papt/sources.list" -o "Dir::Etc::SourceParts=$papt/sources.list.d"
	-o "Dir::State::Lists=$papt/lists" -o "Dir::Cache=$papt" -o "Dir::Cache::Archives=$papt/archives"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")

echo "setup: updating package lists (Debian archive)"
quiet "apt-get update failed: is the Debian archive reachable?" apt-get update
quiet "apt-get update of the private lists (bookworm, trixie and their backports) failed: is the Debian archive reachable?" \
	apt-get "${papt_opts[@]}" update

# Download a package of another suite (NAME/SUITE) into .cache/apt/debs; print the file name.
fetch_deb() {
	local spec=$1 f
	(cd "$papt/debs" && apt-get "${papt_opts[@]}" download "$spec" >> "$log" 2>&1) ||
		die "downloading $spec failed (details: $log)"
	f=$(ls -t "$papt/debs/${spec%%/*}"_*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] || die "downloading $spec produced no .deb (details: $log)"
	echo "$f"
}

# A backports kernel must not drag the other binaries of its source package along
# (linux-perf, linux-libc-dev): apt would upgrade them to a suite the machine's sources do not
# have, where they never get security updates. Only what the kernel depends on comes along.
no_drag=(-o APT::Get::Upgrade-By-Source-Package=false)

# The kernel package that the suite's linux-image-amd64 metapackage points at; in the root of
# release $3 if given. The release's own suite means its newest (security updates included).
kernel_pkg() {
	local suite=$1 kind=$2 inroot=${3:-} dep spec
	if [ -n "$inroot" ]; then
		[ "$suite" = "$inroot" ] && spec=linux-$kind-amd64 || spec=linux-$kind-amd64/$suite
		dep=$("$top/scripts/root.sh" run "$inroot" apt-cache depends "$spec" 2>/dev/null)
	elif [ "$suite" = "$host" ]; then
		dep=$(apt-cache depends "linux-$kind-amd64" 2>/dev/null)
	else
		dep=$(apt-cache "${papt_opts[@]}" depends "linux-$kind-amd64/$suite" 2>/dev/null)
	fi
	dep=$(printf '%s\n' "$dep" | sed -n "s/^ *Depends: \(linux-$kind-[0-9][^ ]*\)$/\1/p" | head -n 1)
	[ -n "$dep" ] || die "no linux-$kind-amd64 in $suite: is that suite reachable?"
	echo "$dep"
}

missing=$(missing_host_pkgs)
sys_missing=${missing/virtme-ng/}
if [ -n "${sys_missing// /}" ]; then
	echo "setup: installing $sys_missing"
	quiet "apt-get install of $sys_missing failed" apt-get install -y --no-install-recommends $sys_missing
fi
if [ "$missing" != "$sys_missing" ]; then
	echo "setup: installing virtme-ng (from trixie)"
	deb=$(fetch_deb virtme-ng/trixie) || exit 1
	quiet "installing $deb failed" apt-get install -y --no-install-recommends "$deb"
fi

for r in $(other_releases); do
	"$top/scripts/root.sh" check "$r" && continue
	"$top/scripts/root.sh" make "$r" > /dev/null || exit 1
done

while read -r name suite pattern release; do
	case "$name" in ''|'#'*) continue ;; esac
	"$top/scripts/kernels.sh" "$name" > /dev/null && continue
	if [ "$release" != "$host" ]; then
		# die() in a $(...) only leaves the subshell: its one line is out, stop here.
		quiet "apt-get update in the $release root failed: is the Debian archive reachable?" \
			"$top/scripts/root.sh" run "$release" apt-get update
		image=$(kernel_pkg "$suite" image "$release") || exit 1
		headers=$(kernel_pkg "$suite" headers "$release") || exit 1
		echo "setup: installing kernel $name in the $release root: $image $headers"
		# -t: a backports kernel takes its dependencies (linux-base) from backports too. Only
		# for another suite: -t RELEASE would put RELEASE above RELEASE-security, where the
		# newest kernel's linux-kbuild may be.
		tsuite=()
		[ "$suite" = "$release" ] || tsuite=(-t "$suite")
		quiet "installing $image $headers in the $release root failed" \
			"$top/scripts/root.sh" run "$release" apt-get "${no_drag[@]}" install -y \
			--no-install-recommends "${tsuite[@]}" "$image" "$headers"
		"$top/scripts/kernels.sh" "$name" > /dev/null ||
			die "kernel $name ($image) installed in the $release root but no headers tree/image found for pattern $pattern"
		continue
	fi
	image=$(kernel_pkg "$suite" image) || exit 1
	headers=$(kernel_pkg "$suite" headers) || exit 1
	echo "setup: installing kernel $name: $image $headers"
	if [ "$suite" = "$host" ]; then
		quiet "apt-get install of $image $headers failed" \
			apt-get install -y --no-install-recommends "$image" "$headers"
	else
		# A backports kernel of the machine's release, with its dependencies (a 7.x image is
		# split into several packages and needs a newer linux-base), resolved against the
		# machine's release and that suite only, downloaded, then installed as local files.
		kapt=$papt/kernel-$suite
		mkdir -p "$kapt/lists/partial" "$kapt/archives/partial" || die "cannot create $kapt"
		printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$archive" "$host" \
			"$keyring" "$archive" "$suite" > "$kapt/sources.list"
		kapt_opts=(-o "Dir::Etc::SourceList=$kapt/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
			-o "Dir::State::Lists=$kapt/lists" -o "Dir::Cache=$kapt" -o "Dir::Cache::Archives=$kapt/archives"
			-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
		rm -f "$kapt"/archives/*.deb
		quiet "apt-get update for $suite failed: is the Debian archive reachable?" \
			apt-get "${kapt_opts[@]}" update
		quiet "downloading kernel $name ($image $headers) from $suite failed" \
			apt-get "${kapt_opts[@]}" "${no_drag[@]}" install --download-only -y \
			--no-install-recommends "$image/$suite" "$headers/$suite"
		quiet "installing kernel $name from $suite failed" \
			apt-get install -y --no-install-recommends "$kapt"/archives/*.deb
	fi
	"$top/scripts/kernels.sh" "$name" > /dev/null ||
		die "kernel $name ($image) installed but no headers tree/image found for pattern $pattern"
done < "$kconf"

for r in $(releases_needing_sparse); do
	"$top/scripts/sparse.sh" make "$r" || exit 1
done

if ! tools_present; then
	echo "setup: extracting kselftest headers and checkpatch.pl from linux-source-6.1"
	mkdir -p "$tools" "$cache/src" || die "cannot create $tools"
	deb=$(cd "$cache/src" && apt-get "${papt_opts[@]}" download linux-source-6.1/bookworm >> "$log" 2>&1 &&
		ls -t "$cache"/src/linux-source-6.1_*.deb | head -n 1)
	[ -n "$deb" ] || die "downloading linux-source-6.1 failed (details: $log)"
	want="tools/testing/selftests/kselftest.h tools/testing/selftests/kselftest_harness.h
		scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch"
	rm -rf "$cache/src/x"
	mkdir -p "$cache/src/x"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO --wildcards './usr/src/linux-source-6.1.tar.xz' |
		tar -xJ -C "$cache/src/x" $(for f in $want; do echo "linux-source-6.1/$f"; done) 2>> "$log" ||
		die "extracting from $deb failed (details: $log)"
	for f in $want; do
		cp "$cache/src/x/linux-source-6.1/$f" "$tools/" || die "$f missing from $deb"
	done
	rm -rf "$cache/src/x" "$deb"
fi

if ! npm_present; then
	if [ ! -e "$npm_dir/.complete" ]; then
		echo "setup: installing d3-flame-graph from the npm registry (tools/js/package-lock.json)"
		command -v npm > /dev/null || die "npm not found: trace --svg's renderer comes from the npm registry"
		rm -rf "$npm_dir" && mkdir -p "$npm_dir" || die "cannot create $npm_dir"
		cp "$top/tools/js/package.json" "$top/tools/js/package-lock.json" "$npm_dir/"
		quiet "npm ci of tools/js failed: is the npm registry reachable?" \
			npm ci --prefix "$npm_dir" --no-audit --no-fund --ignore-scripts
		touch "$npm_dir/.complete"
	fi
	ln -sfn "$npm_dir/node_modules" "$cache/node_modules" || die "cannot link $cache/node_modules"
fi

everything_present || die "set-up finished but something is still missing: $(missing_host_pkgs)(details: $log)"
echo "setup: done"
