#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install puts the binary, the man page and the bash completion where the system looks
# for them: PREFIX=/usr/local (the default) and PREFIX=/usr, staged under DESTDIR. The man page
# renders without warnings and the installed completion completes.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=0
fail=0

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi
}

echo "TAP version 13"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for prefix in /usr/local /usr; do
	d=$tmp/root
	make -s -C "$top" install DESTDIR="$d" PREFIX="$prefix" > "$tmp/log" 2>&1
	result $? "make install PREFIX=$prefix"
	[ -x "$d$prefix/sbin/cowstat" ] && "$d$prefix/sbin/cowstat" -h | grep -q examples:
	result $? "$prefix/sbin/cowstat runs"
	[ "$(stat -c %a "$d$prefix/share/man/man8/cowstat.8")" = 644 ]
	result $? "$prefix/share/man/man8/cowstat.8, mode 644"
	[ -f "$d$prefix/share/bash-completion/completions/cowstat" ]
	result $? "$prefix/share/bash-completion/completions/cowstat"
done
# The man page: no groff warnings, and man(1) finds it by name under the installed tree.
groff -man -ww -z "$tmp/root/usr/local/share/man/man8/cowstat.8" 2>&1 | tee "$tmp/groff" >&2
[ ! -s "$tmp/groff" ]
result $? "cowstat(8) renders without warnings"
if command -v man > /dev/null; then
	MANPATH=$tmp/root/usr/local/share/man man -P cat 8 cowstat 2> /dev/null | grep -q 'cowstat run'
	result $? "man 8 cowstat finds the installed page"
fi
bash -c ". '$tmp/root/usr/share/bash-completion/completions/cowstat'
	COMP_WORDS=(cowstat tre); COMP_CWORD=1; _cowstat; [ \"\${COMPREPLY[*]}\" = tree ]"
result $? "the installed completion completes"
echo "1..$n"
exit $fail
