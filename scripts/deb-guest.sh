#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the QEMU guest of scripts/deb-test.sh, on a root where the Debian packages are
# installed and DKMS built cowstat.ko for the running kernel. Writes TAP to OUTDIR/tap and
# "done" to OUTDIR/done at the end.
#
#   deb-guest.sh OUTDIR VERSION SIGNED N   (SIGNED: 1 when the root's dkms has mok.key, so the
#                                          module must carry a signer; N: TAP lines so far)
set -u
out=$1
version=$2
signed=$3
n=$4
top=$(cd "$(dirname "$0")/.." && pwd)
tap=$out/tap
: > "$tap"

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n cowstat: $2" >> "$tap"; else echo "not ok $n cowstat: $2" >> "$tap"; fi
}

echo "# kernel $(uname -r)" >> "$tap"
# Loopback, for the exporter below: a guest on this root boots without it (as in guest-run.sh).
{ ip link set lo up || busybox ip link set lo up; } 2>/dev/null
modprobe cowstat 2>> "$tap"
check $? "modprobe cowstat (no path) on $(uname -r)"
file=$(modinfo -F filename cowstat 2>/dev/null)
case "$file" in /lib/modules/"$(uname -r)"/updates/dkms/cowstat.ko*) ok=0 ;; *) ok=1 ;; esac
check $ok "modinfo: the module is DKMS's ($file)"
v=$(cowstat version 2>&1)
rc=$?
echo "$v" | sed 's/^/# /' >> "$tap"
[ $rc = 0 ] && [ "$(echo "$v" | grep -c "$version")" -ge 2 ]
check $? "cowstat version: tool and module $version"
signer=$(modinfo -F signer cowstat 2>/dev/null)
if [ "$signed" = 1 ]; then
	[ -n "$signer" ]
	check $? "modinfo shows the signer ($signer): dkms signed it with /var/lib/dkms/mok.key"
else
	n=$((n + 1))
	echo "ok $n cowstat: modinfo signer # SKIP the root's dkms has no /var/lib/dkms/mok.key (signer: '${signer}')" >> "$tap"
fi
log=$(mktemp)
# cow_test alone (the kselftest harness of 6.1 has no test filter): exact counts, about 20 s.
timeout 300 "$top/selftests/cow_test" > "$log" 2>&1
rc=$?
sed 's/^/# /' "$log" >> "$tap"
# A test skips only for a kernel feature it names (6.1: no multi-size THP, no async uffd-wp).
totals=$(sed -n 's/^# Totals: //p' "$log")
[ $rc = 0 ] && echo "$totals" | grep -Eq '^pass:[1-9][0-9]* fail:0 xfail:0 xpass:0 skip:[0-9]+ error:0$'
check $? "selftests: cow_test passes (${totals:-no totals})"
# The service: installed, not enabled (no family to export yet), and its ExecStart line, run
# as systemd would (with $COWSTAT_EXPORT_ARGS split on spaces), serves the module's metrics.
unit=/lib/systemd/system/cowstat-export.service
[ -f "$unit" ] && [ -f /etc/default/cowstat-export ] &&
	[ ! -e /etc/systemd/system/multi-user.target.wants/cowstat-export.service ]
check $? "cowstat-export.service and /etc/default/cowstat-export installed, the unit not enabled"
cmd=$(sed -n 's/^ExecStart=//p' "$unit")
# shellcheck disable=SC1091
. /etc/default/cowstat-export
# shellcheck disable=SC2086
msg=$(eval "$cmd" 2>&1 < /dev/null)
rc=$?
echo "# unconfigured: $msg (exit $rc)" >> "$tap"
[ $rc = 2 ] && [ "$(echo "$msg" | wc -l)" = 1 ]
check $? "the unconfigured service refuses to start, in one line"
COWSTAT_EXPORT_ARGS="--listen 127.0.0.1:10921 --family self=pid:$$"
# exec: the signal goes to cowstat, as systemd's goes to the main process, not to a subshell.
eval "exec $cmd" 2>> "$tap" &
pid=$!
python3 - > "$log" 2>&1 <<'PYEOF'
import time, urllib.request
for _ in range(100):
    try:
        body = urllib.request.urlopen("http://127.0.0.1:10921/metrics", timeout=30).read().decode()
        break
    except OSError:
        time.sleep(0.2)
print(body)
PYEOF
kill $pid
wait $pid
rc=$?
grep -q '^cowstat_module_up 1$' "$log" && grep -q '^cowstat_family_mapped_bytes{family="self"} [1-9]' "$log" &&
	[ $rc = 0 ]
check $? "the service's command serves the module's metrics, ends on SIGTERM with status 0"
grep '^cowstat_module_up\|^cowstat_family_mapped' "$log" | sed 's/^/# /' >> "$tap"
rmmod cowstat 2>> "$tap"
check $? "rmmod cowstat"
echo "done" > "$out/done"
