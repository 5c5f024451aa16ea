#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
A pre-fork Python server in miniature, for "cowstat trace" (Documentation/usage.rst).

The parent loads a cache of 200,000 small records, then forks workers that only *read* part
of it (the first tenth, as a worker serving requests for popular keys would) and collect
garbage once, as any worker that allocates eventually does. Reading a Python object writes
its reference count, and a full collection writes the GC header of every container it
traverses: both break COW. With --freeze the parent calls gc.freeze() before forking, which
moves the cache out of the collector's reach: the workers' collections no longer touch it.

  pyfork.py [--freeze] [--workers N] [--records N]
"""
import argparse
import gc
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--freeze", action="store_true", help="gc.freeze() before forking")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--records", type=int, default=200000)
    args = ap.parse_args()

    cache = [{"id": i, "name": "item-%d" % i, "tags": [i % 7, i % 11]}
             for i in range(args.records)]
    gc.collect()
    if args.freeze:
        gc.freeze()

    pids = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            hot = cache[:len(cache) // 10]
            total = sum(len(r["name"]) + r["tags"][0] for r in hot)
            gc.collect()
            os._exit(0 if total else 1)
        pids.append(pid)
    status = 0
    for pid in pids:
        _, st = os.waitpid(pid, 0)
        status |= os.waitstatus_to_exitcode(st)
    return status


if __name__ == "__main__":
    sys.exit(main())
