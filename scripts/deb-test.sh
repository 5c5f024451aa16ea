#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages tested for real (make test-deb; make test runs it): for a Debian 12 and a
# Debian 13 root, with the headers of a first target kernel installed,
#   - apt installs ./cowstat-dkms_*.deb ./cowstat_*.deb and DKMS builds cowstat.ko for it;
#   - installing a second kernel's headers builds it for that kernel too (the headers package's
#     /etc/kernel/header_postinst.d/dkms hook), and dkms status shows both;
#   - a kernel outside the supported range (BUILD_EXCLUSIVE_KERNEL) is refused in one line
#     naming it, and apt, dpkg and dpkg --audit stay clean;
#   - the first kernel boots under QEMU with that root (scripts/deb-guest.sh): modprobe with no
#     path, cowstat version, the signer when dkms signed it, cow_test (exact counts);
#   - apt purge removes every file dpkg -L listed, the built modules, and dkms forgets it.
# Prints kselftest TAP; exit status 0 only if nothing failed.
#
# Roots: a dedicated cached root per release, /var/cache/cowstat/roots/deb-RELEASE, made once
# from the base root of scripts/root.sh (cp -a) with dkms, both kernels' images, the first
# kernel's headers, and the second's headers downloaded only (about 4 minutes cold, plus the
# base root's 3 if it is missing). It is never changed by a test: each run copies it to a
# scratch root under $COWSTAT_DEB_SCRATCH (default /var/tmp/cowstat-deb), removed after.
# Cost here (2 cores): about 7 minutes with both deb roots cached, two guests of about 2 minutes
# each included, plus any wait for the QEMU lock; cold, about 5 minutes more.
#
# Environment: DEB_RELEASES="bookworm trixie" (default both) chooses the roots.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
cache=${COWSTAT_CACHE:-/var/cache/cowstat}
scratch=${COWSTAT_DEB_SCRATCH:-/var/tmp/cowstat-deb}
out=$top/build/test-deb
releases=${DEB_RELEASES:-bookworm trixie}
rm -rf "$out"
mkdir -p "$out"
n=0
fail=0

result() {
	local ok=$1 what=$2 log=${3:-}
	n=$((n + 1))
	if [ "$ok" = 0 ]; then
		echo "ok $n deb: $what"
	else
		echo "not ok $n deb: $what"
		fail=1
		[ -n "$log" ] && [ -s "$log" ] && tail -n 20 "$log" | sed 's/^/#   /'
	fi
}

# Kernel names of scripts/kernels.conf per release: the first (headers before the packages)
# and the second (headers after).
kernels_of() {
	case "$1" in
	bookworm) echo "6.1 6.12-bpo" ;;
	trixie) echo "6.12 7.x" ;;
	esac
}

# The release of kernel NAME as installed for the project (kernels.sh), or nothing.
krel() {
	scripts/kernels.sh "$1" 2>/dev/null
}

# In root directory $1 (a root of root.sh, named by COWSTAT_CACHE=$2), run a command.
in_root() {
	local c=$1 name=$2
	shift 2
	COWSTAT_CACHE=$c scripts/root.sh run "$name" "$@"
}

# The cached deb root of a release: made from the base root if missing.
make_deb_root() {
	local rel=$1 k1=$2 k2=$3 base r new log
	r=$cache/roots/deb-$rel
	[ -e "$r/.complete" ] && [ "$(cat "$r/.complete")" = "deb $k1 $k2" ] && return 0
	log=$cache/root-deb-$rel.log
	base=$(scripts/root.sh make "$rel") || return 1
	echo "# deb-test: creating the cached root $r (a few minutes)"
	new=$cache/roots/deb-$rel.new
	rm -rf --one-file-system "$new" && cp -a "$base" "$new" || return 1
	rm -f "$new/.complete"
	echo "deb $k1 $k2" > "$new/.complete"
	{ in_root "$cache" "deb-$rel.new" apt-get update &&
		in_root "$cache" "deb-$rel.new" apt-get install -y --no-install-recommends dkms \
			"linux-image-$k1" "linux-headers-$k1" "linux-image-$k2" &&
		in_root "$cache" "deb-$rel.new" sh -c "apt-get purge -y 'linux-headers-$k2' || true" &&
		in_root "$cache" "deb-$rel.new" apt-get install -y --download-only "linux-headers-$k2"
	} > "$log" 2>&1 || { rm -rf --one-file-system "$new"; echo "# deb-test: making $r failed (details: $log)"; return 1; }
	rm -rf --one-file-system "$r" && mv "$new" "$r"
}

echo "TAP version 13"
make -s deb > "$out/make-deb.log" 2>&1
result $? "make deb (dpkg-buildpackage, lintian clean)" "$out/make-deb.log"
version=$(sed -n 's/^#define COWSTAT_VERSION[[:space:]]*"\(.*\)"/\1/p' include/cowstat.h)
make -s selftests/cow_test > "$out/selftests.log" 2>&1
result $? "selftests/cow_test builds" "$out/selftests.log"
debs=$(ls build/deb/cowstat-dkms_"$version"_all.deb build/deb/cowstat_"$version"_amd64.deb 2>/dev/null | wc -l)
if [ "$debs" != 2 ] || [ ! -x selftests/cow_test ]; then
	echo "1..$n"
	exit 1
fi

for rel in $releases; do
	read -r name1 name2 <<< "$(kernels_of "$rel")"
	k1=$(krel "$name1") k2=$(krel "$name2")
	echo "# ---- Debian $rel: kernels $name1 ($k1), then $name2 ($k2)"
	if [ -z "$k1" ] || [ -z "$k2" ]; then
		result 1 "$rel: kernels $name1 and $name2 installed (make setup)"
		continue
	fi
	log=$out/$rel.log
	make_deb_root "$rel" "$k1" "$k2" >> "$log" 2>&1
	result $? "$rel: cached root $cache/roots/deb-$rel" "$log"
	[ -e "$cache/roots/deb-$rel/.complete" ] || continue
	sroot=$scratch/roots/deb-$rel
	rm -rf --one-file-system "$scratch" && mkdir -p "$scratch/roots" &&
		cp -a "$cache/roots/deb-$rel" "$sroot" && mkdir -p "$sroot/tmp/debs" &&
		cp build/deb/cowstat-dkms_"$version"_all.deb build/deb/cowstat_"$version"_amd64.deb "$sroot/tmp/debs/"
	result $? "$rel: scratch root $sroot" "$log"
	run() { in_root "$scratch" "deb-$rel" "$@"; }

	# 1. The packages, with the first kernel's headers: DKMS builds for it.
	run apt-get install -y --no-install-recommends /tmp/debs/cowstat-dkms_"$version"_all.deb \
		/tmp/debs/cowstat_"$version"_amd64.deb > "$out/$rel-install.log" 2>&1
	result $? "$rel: apt install ./cowstat-dkms_${version}_all.deb ./cowstat_${version}_amd64.deb" "$out/$rel-install.log"
	ko1=$(ls "$sroot/lib/modules/$k1/updates/dkms/"cowstat.ko* 2>/dev/null | head -n 1)
	[ -n "$ko1" ]
	result $? "$rel: DKMS installed cowstat.ko for $k1 (${ko1#"$sroot"})" "$out/$rel-install.log"
	run dkms status > "$out/$rel-status1" 2>&1
	grep -q "^cowstat/$version, $k1, x86_64: installed" "$out/$rel-status1"
	result $? "$rel: dkms status: cowstat/$version, $k1: installed" "$out/$rel-status1"
	run /sbin/modinfo -k "$k1" -F version cowstat > "$out/$rel-modver" 2>&1
	[ "$(cat "$out/$rel-modver")" = "$version" ]
	result $? "$rel: modinfo -k $k1 cowstat: version $version" "$out/$rel-modver"

	# 2. A second kernel's headers: its postinst hook has DKMS build for it.
	[ -x "$sroot/etc/kernel/header_postinst.d/dkms" ]
	result $? "$rel: /etc/kernel/header_postinst.d/dkms present"
	run apt-get install -y --no-install-recommends --no-download "linux-headers-$k2" > "$out/$rel-headers2.log" 2>&1
	result $? "$rel: apt install linux-headers-$k2" "$out/$rel-headers2.log"
	grep -q "header_postinst.d" "$out/$rel-headers2.log" && grep -q "cowstat" "$out/$rel-headers2.log"
	result $? "$rel: the headers' postinst hook ran DKMS for cowstat" "$out/$rel-headers2.log"
	run dkms status > "$out/$rel-status2" 2>&1
	grep -q "^cowstat/$version, $k1, x86_64: installed" "$out/$rel-status2" &&
		grep -q "^cowstat/$version, $k2, x86_64: installed" "$out/$rel-status2"
	result $? "$rel: dkms status: installed for $k1 and $k2" "$out/$rel-status2"

	# 3. A kernel outside the supported range: one line naming it; apt and dpkg stay clean.
	fake=8.0.0-cowstat-fake
	mkdir -p "$sroot/lib/modules/$fake" && ln -s "/usr/src/linux-headers-$k1" "$sroot/lib/modules/$fake/build"
	run dkms autoinstall -k "$fake" > "$out/$rel-fake.log" 2>&1
	sed 's/^/# /' "$out/$rel-fake.log"
	grep "$fake" "$out/$rel-fake.log" | grep -Eqi 'skipped|BUILD_EXCLUSIVE'
	result $? "$rel: DKMS skips kernel $fake (too new) in a line naming it" "$out/$rel-fake.log"
	nohdr=7.0.0-cowstat-noheaders
	mkdir -p "$sroot/lib/modules/$nohdr"
	run dkms autoinstall -k "$nohdr" > "$out/$rel-nohdr.log" 2>&1
	sed 's/^/# /' "$out/$rel-nohdr.log"
	grep "$nohdr" "$out/$rel-nohdr.log" | grep -Eqi 'headers'
	result $? "$rel: DKMS names kernel $nohdr and its missing headers in one line" "$out/$rel-nohdr.log"
	run apt-get install -y --reinstall /tmp/debs/cowstat-dkms_"$version"_all.deb > "$out/$rel-reinstall.log" 2>&1
	rc=$?
	run dpkg --audit > "$out/$rel-audit" 2>&1
	grep -q "$fake" "$out/$rel-reinstall.log" && [ $rc = 0 ] && [ ! -s "$out/$rel-audit" ]
	result $? "$rel: reinstall with kernels $fake and $nohdr present: DKMS tried them, apt exit 0, dpkg --audit clean" "$out/$rel-reinstall.log"
	rm -rf "$sroot/lib/modules/$fake" "$sroot/lib/modules/$nohdr"

	# 4. Boot the first kernel with the root.
	sig=0
	[ -e "$sroot/var/lib/dkms/mok.key" ] && sig=1
	echo "# $rel: /var/lib/dkms/mok.key $([ $sig = 1 ] && echo present || echo absent)"
	printf '%s\t%s\t%s\t%s\n' "$name1" x "$k1" "deb-$rel" > "$scratch/kernels.conf"
	vmout=$scratch/out
	mkdir -p "$vmout"
	echo "# booting $k1 with the $rel root under QEMU..."
	COWSTAT_CACHE=$scratch COWSTAT_KERNELS_CONF=$scratch/kernels.conf scripts/vm.sh "$name1" 600 \
		--cpus 2 --memory 2G --qemu-opts='-accel tcg,thread=single' --verbose \
		--rwdir="/tmp/cowstat-out=$vmout" \
		--exec "scripts/deb-guest.sh /tmp/cowstat-out $version $sig $n" > "$out/$rel-console.log" 2>&1
	rc=$?
	if [ -e "$vmout/tap" ]; then
		sed "s/ cowstat: / deb: $rel: /" "$vmout/tap"
		grep -q '^not ok ' "$vmout/tap" && fail=1
		n=$((n + $(grep -Ec '^(not )?ok ' "$vmout/tap")))
	fi
	[ -e "$vmout/done" ]
	result $? "$rel: guest ran to the end (vng exit $rc)" "$out/$rel-console.log"

	# 5. Purge: every file dpkg listed, and the built modules, are gone.
	run dpkg -L cowstat-dkms cowstat > "$out/$rel-files" 2>&1
	run apt-get purge -y cowstat-dkms cowstat > "$out/$rel-purge.log" 2>&1
	result $? "$rel: apt purge cowstat-dkms cowstat" "$out/$rel-purge.log"
	left=
	# dpkg -L lists directories too, shared ones such as /lib (a symlink to usr/lib in
	# Debian 13's merged /usr): a file or a link to one left behind is the failure.
	while read -r f; do
		[ -d "$sroot$f" ] && continue
		[ -f "$sroot$f" ] || [ -L "$sroot$f" ] && left="$left $f"
	done < "$out/$rel-files"
	left="$left $(cd "$sroot" && ls -d lib/modules/*/updates/dkms/cowstat.ko* var/lib/dkms/cowstat usr/src/cowstat-* 2>/dev/null | tr '\n' ' ')"
	left=$(echo "$left" | xargs)
	[ -z "$left" ] && [ "$(grep -c . "$out/$rel-files")" -gt 10 ]
	result $? "$rel: no file of the packages or DKMS is left ($(grep -c . "$out/$rel-files") listed)${left:+; left: $left}"
	run dkms status > "$out/$rel-status3" 2>&1
	[ ! -s "$out/$rel-status3" ]
	result $? "$rel: dkms status empty" "$out/$rel-status3"
	rm -rf --one-file-system "$scratch"
done
echo "1..$n"
exit $fail
