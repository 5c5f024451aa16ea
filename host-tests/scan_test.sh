#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/scan-dmesg.sh must flag every kind of splat it is meant to catch (lines in the exact
# form the 6.1 and 6.12 kernels print them) and must pass clean logs of a normal test run.
set -u
scan=$(dirname "$0")/../scripts/scan-dmesg.sh
n=0
fail=0
clean='[   19.417585] cowstat: loading out-of-tree module taints kernel.
[   19.417970] cowstat: module verification failed: signature and/or required key missing - tainting kernel
[   19.419568] cowstat: version 0.1.0 loaded (interface 1)
[   20.000000] kprobes: kprobe jump-optimization is enabled. All kprobes are optimized if possible.
[   21.000000] virtme-init: starting script'

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fail=1
	fi
}

echo "TAP version 13"
printf '%s\n' "$clean" | "$scan" > /dev/null
result $? "clean log passes"
printf '' | "$scan" > /dev/null
result $? "empty log passes"

while IFS='|' read -r what line; do
	out=$(printf '%s\n%s\n%s\n' "$clean" "$line" "$clean" | "$scan")
	rc=$?
	[ $rc = 1 ] && printf '%s' "$out" | grep -qF "$line"
	result $? "flags $what"
done <<'SPLATS'
WARN|[   12.345678] WARNING: CPU: 1 PID: 123 at mm/memory.c:3456 do_wp_page+0x12/0x300
NULL deref|[  100.100000] BUG: kernel NULL pointer dereference, address: 0000000000000000
oops int3 (6.12)|[    5.000000] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
oops (6.1)|[    5.000000] int3: 0000 [#1] PREEMPT SMP NOPTI Oops
BUG_ON|[    5.000000] kernel BUG at arch/x86/kernel/kprobes/core.c:917!
KASAN|[    5.000000] BUG: KASAN: slab-use-after-free in cowstat_table_lookup+0x1/0x20
lockdep|[    5.000000] WARNING: possible circular locking dependency detected
lockdep off|[    5.000000] INFO: lockdep is turned off.
hung task|[  242.000000] INFO: task cow_test:123 blocked for more than 120 seconds.
soft lockup|[   50.000000] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [cow_test:99]
RCU stall|[   50.000000] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:
kprobe arm failure|[    6.000000] Failed to arm kprobe-ftrace at do_wp_page+0x0/0x4e0 (error -16)
kmemleak|[   70.000000] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
UBSAN|[    5.000000] UBSAN: shift-out-of-bounds in module/table.c:10:5
list corruption|[    5.000000] list_add corruption. prev->next should be next (ffff888003a0e0c8)
refcount|[    5.000000] refcount_t: underflow; use-after-free.
GPF|[    5.000000] general protection fault, probably for non-canonical address 0xdead000000000100
call trace|[    5.000000] Call Trace:
SPLATS
echo "1..$n"
exit $fail
