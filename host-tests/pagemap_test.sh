#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The pagemap backend on the host (no module here) against a family with known answers:
# workloads/family puts N pages in its heap, child i writes K[i] of them, the parent P others.
# The heap figures of tree and show must be exact, and the two methods (kpagecount as root,
# the pagemap "exclusively mapped" bit otherwise) must agree on them.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cowstat=${COWSTAT:-$top/tools/cowstat}
n=0
fail=0
N=300 K=10,20,30 P=40

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi
}

echo "TAP version 13"
tmp=$(mktemp -d)
trap 'exec 3>&-; rm -rf "$tmp"' EXIT
mkfifo "$tmp/in"
"$top/workloads/family" -n $N -c 3 -k $K -p $P -w < "$tmp/in" > "$tmp/ready" &
exec 3> "$tmp/in"
for _ in $(seq 50); do [ -s "$tmp/ready" ] && break; sleep 0.1; done
read -r _ parent c1 c2 c3 < "$tmp/ready"

"$cowstat" tree --json "$parent" > "$tmp/tree.json" 2> "$tmp/tree.err"
result $? "tree --json of the family exits 0"
python3 -m json.tool "$tmp/tree.json" > /dev/null
result $? "tree --json is valid JSON"

# Heap of each process: mapped, shared, exclusive.
check_heap() {
	python3 - "$1" "$parent" "$c1" "$c2" "$c3" <<PYEOF
import json, sys
d = json.load(open(sys.argv[1]))
N, K, P = $N, [int(x) for x in "$K".split(",")], $P
want = {int(sys.argv[2]): (N, N - P, P)}
for i, pid in enumerate(sys.argv[3:]):
    want[int(pid)] = (N, N - K[i], K[i])
got = {p["pid"]: (p["regions"]["heap"]["mapped_pages"], p["regions"]["heap"]["shared_pages"],
                  p["regions"]["heap"]["exclusive_pages"]) for p in d["processes"]}
bad = [(pid, w, got.get(pid)) for pid, w in want.items() if got.get(pid) != w]
if bad:
    print("# heap (mapped, shared, exclusive) expected vs got:", bad)
    sys.exit(1)
PYEOF
}
check_heap "$tmp/tree.json"
result $? "tree: heap mapped/shared/exclusive exact for parent and 3 children (kpagecount)"

python3 - "$tmp/tree.json" <<PYEOF
import json, sys
d = json.load(open(sys.argv[1]))
N, K, P = $N, [int(x) for x in "$K".split(",")], $P
f = d["family"]
heap_saved = 4 * N - (N + sum(K) + P)
ok = d["method"] == "kpagecount" and f["saved_pages"] >= heap_saved and \
     f["saved_pages"] == f["mapped_pages"] - f["zero_pages"] - f["distinct_pages"] and \
     len(d["pairs"]) == 6
pairs = {(p["a"], p["b"]): p["shared_pages"] for p in d["pairs"]}
root = d["processes"][0]["pid"]
for i, p in enumerate(d["processes"][1:]):
    ok = ok and pairs[(root, p["pid"])] >= N - K[i] - P
if not ok:
    print("# family", f, "pairs", pairs)
sys.exit(0 if ok else 1)
PYEOF
result $? "tree: family saved >= heap's N*4 - distinct, pairs cover the heap"

COWSTAT_PAGEMAP_NOFRAMES=1 "$cowstat" tree --json "$parent" > "$tmp/tree2.json" 2> "$tmp/tree2.err"
result $? "tree with the exclusive bit (non-root method) exits 0"
check_heap "$tmp/tree2.json"
result $? "exclusive-bit method: the same heap figures as kpagecount"
[ "$(wc -l < "$tmp/tree2.err")" = 1 ] && grep -q 'unavailable' "$tmp/tree2.err"
result $? "exclusive-bit method says in one line what is unavailable"

"$cowstat" show --json "$c2" > "$tmp/show.json" 2> /dev/null
python3 - "$tmp/show.json" <<PYEOF
import json, sys
d = json.load(open(sys.argv[1]))
h = d["sharing"]["regions"]["heap"]
sys.exit(0 if (h["mapped_pages"], h["shared_pages"], h["exclusive_pages"]) == ($N, $N - 20, 20) else 1)
PYEOF
result $? "show --json: child 2's heap exact"

"$cowstat" tree "$parent" > "$tmp/tree.txt" 2>&1
grep -q "\\\\_ $c1" "$tmp/tree.txt" && grep -q 'saved by COW' "$tmp/tree.txt" &&
	grep -q 'pages shared by each pair' "$tmp/tree.txt"
result $? "tree plain: indented children, family line, pair matrix"

exec 3>&-
wait
echo "1..$n"
exit $fail
