# SPDX-License-Identifier: GPL-2.0
"""
The harness of the Python selftests (trace_test.py, export_test.py): tests registered with
@test, failures raised with check() or Fail, skips with Skip and the reason, and main(),
which prints KTAP and returns the exit status.
"""
import sys

results = []


def test(fn):
    results.append(fn)
    return fn


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def skip(why):
    raise Skip(why)


def check(cond, what):
    if not cond:
        raise Fail(what)


def main():
    print("TAP version 13")
    print("1..%d" % len(results))
    failed = 0
    for n, fn in enumerate(results, 1):
        try:
            fn()
            print("ok %d %s" % (n, fn.__name__))
        except Skip as e:
            print("ok %d %s # SKIP %s" % (n, fn.__name__, e))
        except Exception as e:  # a failure, or the test itself broke: both are failures
            failed += 1
            for line in ("%s: %s" % (type(e).__name__, e)).splitlines():
                print("# " + line)
            print("not ok %d %s" % (n, fn.__name__))
        sys.stdout.flush()
    print("# %s: %d / %d tests passed." % ("PASSED" if not failed else "FAILED",
                                          len(results) - failed, len(results)))
    return 1 if failed else 0
