#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Read a kernel log on stdin; if it holds any splat (oops, WARN, BUG, lockdep, KASAN,
# kmemleak, UBSAN, RCU stall, soft lockup, hung task, a kprobe failure, list or refcount
# corruption), print each with some context and exit 1. Exit 0 if the log is clean.
# Tested by host-tests/scan_test.sh against real splats and clean logs.
set -u
splat='Oops|WARNING:|BUG:|kernel BUG at|INFO: (possible|task .* blocked|rcu_)|'
splat+='lockdep|KASAN|kmemleak|UBSAN|general protection|Call Trace|RIP: |'
splat+='hung_task|blocked for more than|soft lockup|rcu_.*(stall|detected)|'
splat+='[Kk]probe.*([Ff]ail|error|[Ii]nvalid)|Failed to .*probe|refcount_t:|'
splat+='list_(add|del) corruption|double fault|Unable to handle'
log=$(cat)
if printf '%s\n' "$log" | grep -Eq "$splat"; then
	printf '%s\n' "$log" | grep -E -B2 -A20 "$splat" | head -n 80
	exit 1
fi
exit 0
