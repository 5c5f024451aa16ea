#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/setup.sh must stop with exactly one line saying what failed and what to do, and
# exit 1, when it cannot succeed: not root with something missing, or a suite that does not
# exist. A kernel list naming a kernel that is not installed (COWSTAT_KERNELS_CONF) makes
# something missing without touching the machine.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fail=1
	fi
}

# Run set-up; check exit status 1, exactly one line on stderr matching $1, nothing on stdout
# but progress lines.
expect_one_line() {
	local pattern=$1 what=$2 rc lines
	shift 2
	"$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	lines=$(wc -l < "$tmp/err")
	if [ $rc = 1 ] && [ "$lines" = 1 ] && grep -Eq "$pattern" "$tmp/err"; then
		result 0 "$what"
	else
		result 1 "$what"
		echo "# exit $rc, $lines lines on stderr:"
		sed 's/^/#   /' "$tmp/err"
	fi
}

echo "TAP version 13"
host=$(. /etc/os-release && echo "$VERSION_CODENAME")
printf '9.99\t%s\t9.99.*-nosuch-amd64\t%s\n' "$host" "$host" > "$tmp/nosuch.conf"
printf '9.99\tnosuchsuite\t9.99.*-nosuch-amd64\t%s\n' "$host" > "$tmp/nosuite.conf"
chmod 644 "$tmp"/*.conf

COWSTAT_KERNELS_CONF=$tmp/nosuch.conf "$top/scripts/kernels.sh" > /dev/null
[ $? = 1 ]
result $? "kernels.sh exits 1 when a listed kernel is not installed"

if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ] &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$top/scripts/setup.sh"; then
	expect_one_line '^setup: missing: .*run as root' "not root, kernel missing: one line, exit 1" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		env COWSTAT_KERNELS_CONF="$tmp/nosuch.conf" bash "$top/scripts/setup.sh"
else
	n=$((n + 1))
	echo "ok $n not root, kernel missing # SKIP needs root, setpriv, and a tree user nobody can read"
fi

if [ "$(id -u)" = 0 ]; then
	expect_one_line '^setup: no linux-image-amd64 in nosuchsuite' \
		"unknown suite: one line naming it, exit 1" \
		env COWSTAT_KERNELS_CONF="$tmp/nosuite.conf" bash "$top/scripts/setup.sh"
else
	n=$((n + 1))
	echo "ok $n unknown suite # SKIP needs root (set-up installs as root)"
fi
# Set-up must work on Debian 12 and 13 alike: every package it installs on the machine must
# exist under that name on the other release too. Checked in the cached root of the other
# release that set-up made for its kernels (a simulated install: apt resolves, installs nothing).
for rel in $(awk -v host="$host" '!/^#/ && NF >= 4 && $4 != host {print $4}' "$top/scripts/kernels.conf" | sort -u); do
	if [ "$(id -u)" = 0 ] && "$top/scripts/root.sh" check "$rel"; then
		# virtme-ng is always taken from trixie (Debian 12 has none): not looked up.
		"$top/scripts/root.sh" run "$rel" apt-get install -s --no-install-recommends \
			$(bash "$top/scripts/setup.sh" --packages) > "$tmp/sim" 2>&1
		rc=$?
		result $rc "set-up's packages all resolve on Debian $rel (apt-get -s in its root)"
		[ $rc = 0 ] || grep -E '^E:|Unable to locate' "$tmp/sim" | head -n 5 | sed 's/^/#   /'
	else
		n=$((n + 1))
		echo "ok $n set-up's packages on $rel # SKIP needs root and the $rel root (make setup)"
	fi
done
# Installing a backports kernel leaves the rest of the machine on its own release: the other
# binaries of the kernel's source package keep a version the machine's apt sources have.
for p in linux-perf linux-libc-dev; do
	v=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null) || continue
	apt-cache madison "$p" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$v"
	result $? "$p $v comes from the machine's own apt sources (no backports dragged along)"
done
echo "1..$n"
exit $fail
