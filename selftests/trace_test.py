#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
The trace event cowstat:cow_fault and "cowstat trace", in the VM with cowstat.ko loaded
(run by scripts/guest-run.sh; COWSTAT_KO names the module for the unload test). KTAP output.

  - two known functions write known numbers of pages: the report ranks them, exact counts,
    their source lines;
  - under the cow_test scenarios, the events of every process equal the module's counters,
    class by class, and every class appears with the right fields;
  - a stalled consumer loses events, and the report says how many;
  - a live perf consumer holds the module: rmmod fails (EBUSY), then works once it detaches;
  - the examples of Documentation/cowstat.rst work (perf, bpftrace, trace-cmd);
  - --svg draws them as a flame graph: well-formed SVG, the frames' weights those of the
    folded stacks, the writers' source lines in their frames;
  - bad invocations give one line and a non-zero exit.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap import Fail, Skip, check, main, skip, test  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COWSTAT = os.path.join(TOP, "tools", "cowstat")
TARGET = os.path.join(TOP, "workloads", "trace_target")
COW_TEST = os.path.join(TOP, "selftests", "cow_test")
PAGE = 4096
# Time limits scale on a slow (debug) kernel, as in cowstat_test.h; counts do not.
SCALE = int(os.environ.get("COWSTAT_TIME_SCALE", "1") or 1)
CLASSES = ["copy", "reuse", "zero", "file", "thp_reuse", "thp_split", "thp_zero", "unshare",
           "ksm", "shared", "other"]

def run(args, timeout=600, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout * SCALE, **kw)


def trace_json(args, timeout=600):
    """cowstat trace -q --json -o FILE <args>: (report, completed process)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as f:
        p = run([COWSTAT, "trace", "-q", "--json", "-n", "1000", "-o", f.name] + args,
                timeout=timeout)
        text = f.read()
    check(text, "no report (exit %d): %s" % (p.returncode, p.stderr.strip()))
    return json.loads(text), p


def module_procs():
    p = run([COWSTAT, "ps", "--json"])
    check(p.returncode == 0, "cowstat ps: " + p.stderr.strip())
    procs = {}
    for r in json.loads(p.stdout)["processes"]:
        # The newest record of a pid (largest start time) wins.
        if r["pid"] not in procs or r["start_ns"] > procs[r["pid"]]["start_ns"]:
            procs[r["pid"]] = r
    return procs


def root_pid(rep):
    """The traced command's process: the one whose parent is not in the report."""
    pids = {x["pid"] for x in rep["processes"]}
    roots = [x["pid"] for x in rep["processes"] if x["ppid"] not in pids]
    check(len(roots) == 1, "roots %s in the report" % roots)
    return roots[0]


def marker_line(name):
    with open(os.path.join(TOP, "workloads", "trace_target.c")) as f:
        for n, line in enumerate(f, 1):
            if name in line:
                return n
    raise Fail("marker %s not in trace_target.c" % name)


@test
def two_functions_ranked_exactly():
    rep, p = trace_json(["--", TARGET, "48", "16"])
    check(p.returncode == 0, "trace_target exit status %d not passed through" % p.returncode)
    check(rep["events_dropped"] == 0, "dropped %d events" % rep["events_dropped"])
    m = re.search(r"child (\d+)", p.stdout)
    check(m, "trace_target printed no child pid: %r" % p.stdout)
    child = [x for x in rep["processes"] if x["pid"] == int(m.group(1))]
    check(len(child) == 1, "child %s not in the report" % m.group(1))
    locs = child[0]["locations"]
    la, lb = marker_line("TRACE_TARGET_WRITER_A"), marker_line("TRACE_TARGET_WRITER_B")
    want = [("writer_a (workloads/trace_target.c:%d)" % la, 48),
            ("writer_b (workloads/trace_target.c:%d)" % lb, 16)]
    got = [(x["location"], x["events"]) for x in locs[:2]]
    check(got == want, "top locations %s, want %s" % (got, want))
    for x, (_, n) in zip(locs[:2], want):
        check(x["copied_bytes"] == n * PAGE and x["faults"]["copy"] == n,
              "%s: copied %d, copy %d" % (x["location"], x["copied_bytes"],
                                          x["faults"]["copy"]))
        check(x["object"] == "trace_target", "object %s" % x["object"])
    # The family table ranks the same two first.
    fam = [(x["location"], x["events"]) for x in rep["locations"][:2]]
    check(fam == want, "family top locations %s" % fam)


def folded(path):
    """The lines of a --folded file: [(frames, weight)], each line checked for form."""
    stacks = []
    with open(path) as f:
        for line in f.read().splitlines():
            m = re.fullmatch(r"(\S.*) ([1-9][0-9]*)", line)
            check(m, "malformed folded line %r" % line)
            stacks.append((m.group(1).split(";"), int(m.group(2))))
    texts = [";".join(fr) for fr, _ in stacks]
    check(texts == sorted(set(texts)), "folded lines not sorted and distinct")
    return stacks


@test
def folded_stacks_exact():
    # The child of trace_target writes 48 pages in writer_a() and 16 in writer_b(), both
    # called by main(); trace_target is built with frame pointers, so each fault's user stack
    # ends main;writer_X. The weight of a stack is the pages it copied (or its faults with
    # --weight faults), and the weights of each process name add up to the report's numbers.
    for weight in ("pages", "faults"):
        with tempfile.NamedTemporaryFile("r", suffix=".folded") as f:
            rep, p = trace_json(["--folded", f.name, "--weight", weight, "--", TARGET,
                                 "48", "16"])
            stacks = folded(f.name)
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr.strip()))
        check(rep["events_dropped"] == 0, "dropped %d events" % rep["events_dropped"])
        for fn, n in (("writer_a", 48), ("writer_b", 16)):
            got = [w for fr, w in stacks if fr[0] == "trace_target" and fr[-2:] == ["main", fn]]
            check(got == [n], "%s: stacks ending main;%s weigh %s, want [%d]: %s" %
                  (weight, fn, got, n, stacks))
        for comm in {x["comm"] for x in rep["processes"]}:
            procs = [x for x in rep["processes"] if x["comm"] == comm]
            want = sum(x["copied_bytes"] // PAGE if weight == "pages" else x["events"]
                       for x in procs)
            got = sum(w for fr, w in stacks if fr[0] == comm)
            check(got == want, "%s: %s's stacks weigh %d, its processes %d" %
                  (weight, comm, got, want))
        roots = {fr[0] for fr, _ in stacks}
        check(roots <= {x["comm"] for x in rep["processes"]}, "root frames %s" % roots)


def svg_frames(path):
    """An SVG of trace --svg, parsed (well-formed XML): (its title, its data)."""
    ns = {"svg": "http://www.w3.org/2000/svg"}
    try:
        doc = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise Fail("%s is not well-formed XML: %s" % (path, e))
    check(doc.tag == "{%s}svg" % ns["svg"], "root element %s" % doc.tag)
    data = doc.find("svg:script[@id='cowstat-data']", ns)
    check(data is not None, "no cowstat-data element")
    scripts = doc.findall("svg:script", ns)
    check(len(scripts) == 3 and "d3-flame-graph 5" in scripts[1].text,
          "d3-flame-graph is not embedded")
    return doc.find("svg:title", ns).text, json.loads(data.text)


@test
def flamegraph_svg_exact():
    # The flame graph of the same two writers: well-formed SVG whose frames are the folded
    # stacks merged into a tree, each frame's value the weight of the stacks under it, and
    # the two writers' frames named with their source lines. Kept for the host's browser
    # check (host-tests/pictures_test.py) in $COWSTAT_PICTURES when the guest run sets it.
    out = os.environ.get("COWSTAT_PICTURES") or tempfile.mkdtemp()
    svg, fold = os.path.join(out, "flamegraph.svg"), os.path.join(out, "flamegraph.folded")
    rep, p = trace_json(["--folded", fold, "--svg", svg, "--", TARGET, "48", "16"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr.strip()))
    check(rep["events_dropped"] == 0, "dropped %d events" % rep["events_dropped"])
    stacks = folded(fold)
    title, data = svg_frames(svg)
    check(title == "COW copies of %s 48 16" % TARGET, "title %r" % title)
    check(data["weight"] == "pages" and data["page_size"] == PAGE, "data %r" % data["weight"])
    fr = data["frames"]
    check(fr[0]["name"] == "all" and fr[0]["parent"] == -1, "root %r" % fr[0])
    paths = [None] * len(fr)
    for i, f in enumerate(fr):
        check(i == 0 or 0 <= f["parent"] < i, "frame %d's parent %d" % (i, f["parent"]))
        paths[i] = () if i == 0 else paths[f["parent"]] + (f["name"],)
        # A frame weighs what its children weigh, and the stacks that end in it.
        kids = sum(g["value"] for g in fr if g["parent"] == i)
        check(f["value"] >= kids > 0 or kids == 0 < f["value"], "frame %d: %d, children %d"
              % (i, f["value"], kids))
    # Frames of one name path (call sites of one function) weigh what its folded lines do.
    for path in set(paths[1:]):
        got = sum(f["value"] for f, q in zip(fr, paths) if q == path)
        want = sum(w for names, w in stacks if tuple(names[:len(path)]) == path)
        check(got == want, "%s: %d pages in the SVG, %d folded" % (";".join(path), got, want))
    check(fr[0]["value"] == sum(w for _, w in stacks) == sum(
        x["copied_bytes"] // PAGE for x in rep["processes"]), "total %d" % fr[0]["value"])
    for fn, marker, n in (("writer_a", "TRACE_TARGET_WRITER_A", 48),
                          ("writer_b", "TRACE_TARGET_WRITER_B", 16)):
        got = [(f["src"], f["value"]) for f in fr if f["name"] == fn]
        want = [("workloads/trace_target.c:%d" % marker_line(marker), n)]
        check(got == want, "%s frames %s, want %s" % (fn, got, want))


@test
def exit_status_passed_through():
    p = run([COWSTAT, "trace", "-q", "--", "sh", "-c", "exit 3"])
    check(p.returncode == 3, "exit status %d, want 3" % p.returncode)
    check("events dropped: 0" in p.stderr, "report not on stderr: %r" % p.stderr[-300:])


@test
def events_equal_counters_every_class():
    # child_writes, parent_writes_after_child_exit and exclusive_reuse run on every backing.
    tests = ["child_writes", "parent_writes_after_child_exit", "exclusive_reuse",
             "parent_copies_then_reuses", "zero_page", "file_private_write_only",
             "shared_write_notify", "huge_zero_page", "unshare_attributed_to_target", "ksm"]
    os.environ["COWSTAT_COW_TESTS"] = " ".join(tests)
    try:
        rep, p = trace_json(["--", COW_TEST], timeout=900)
    finally:
        del os.environ["COWSTAT_COW_TESTS"]
    if p.returncode != 0:
        # The failed tests' own lines (between their RUN and FAIL), not the output's tail.
        lines, keep, cur = p.stdout.splitlines(), [], []
        for l in lines:
            if "#  RUN " in l:
                cur = [l]
            else:
                cur.append(l)
            if "FAIL " in l:
                keep += cur
        raise Fail("cow_test failed under trace: " + " | ".join(keep)[-3000:])
    check(rep["events_dropped"] == 0, "dropped %d events" % rep["events_dropped"])
    mod = module_procs()
    seen = {c: 0 for c in CLASSES}
    for x in rep["processes"]:
        if not x["events"]:
            continue
        r = mod.get(x["pid"])
        check(r, "pid %d has events but no module record" % x["pid"])
        if x["pid"] == root_pid(rep):
            # The command's process: its faults before exec (in cowstat's fork) are counted
            # by the module, not traced.
            check(all(x["faults"][c] <= r["faults"][c] for c in CLASSES),
                  "root pid %d: events %s > counters %s" % (x["pid"], x["faults"], r["faults"]))
            continue
        check(x["faults"] == r["faults"],
              "pid %d: events %s != counters %s" % (x["pid"], x["faults"], r["faults"]))
        check(x["copied_bytes"] == r["copied_bytes"], "pid %d copied bytes" % x["pid"])
        check(sum(g["events"] for g in x["regions"]) == x["events"], "regions sum")
        for g in x["regions"]:
            check((g["region"] == "file") == bool(g["file"]) or g["region"] == "other",
                  "pid %d region %s with file %r" % (x["pid"], g["region"], g["file"]))
        for c in CLASSES:
            seen[c] += x["faults"][c]
        # unshare faults are run by the reader's GUP: no code location of the target.
        gup = [l for l in x["locations"] if l["location"].startswith("[another process")]
        check(sum(l["events"] for l in gup) >= x["faults"]["unshare"],
              "pid %d: %d unshare but %d GUP locations" %
              (x["pid"], x["faults"]["unshare"], sum(l["events"] for l in gup)))
    # thp_zero happens on 7.x only (6.x splits the huge zero page: thp_split, zero);
    # cow_test's huge_zero_page checks which one the kernel did.
    missing = [c for c in CLASSES if c not in ("other", "thp_zero") and not seen[c]]
    check(not missing, "no event of class %s (seen %s)" % (missing, seen))


@test
def stalled_consumer_drops_are_counted():
    # The command stops cowstat (its parent) for the whole workload: a 1-page buffer fills.
    os.environ["TRACE_TARGET_STOP_PARENT"] = "1"
    try:
        rep, p = trace_json(["-b", "1", "--", TARGET, "1000", "0"])
        p2 = run([COWSTAT, "trace", "-q", "-b", "1", "--", TARGET, "1000", "0"])
    finally:
        del os.environ["TRACE_TARGET_STOP_PARENT"]
    check(p.returncode == 0, "exit %d" % p.returncode)
    # The child that wrote 1000 pages while cowstat was stopped: exact numbers in the module.
    m = re.search(r"child (\d+)", p.stdout)
    check(m, "trace_target printed no child pid: %r" % p.stdout)
    child = int(m.group(1))
    total = sum(x["events"] for x in rep["processes"] if x["pid"] == child)
    counted = sum(module_procs()[child]["faults"].values())
    check(counted >= 1000, "module counted %d faults in the child" % counted)
    check(rep["events_dropped"] > 0, "nothing dropped (%d events)" % total)
    check(total < counted, "%d events, %d counted: nothing missing?" % (total, counted))
    check(total + rep["events_dropped"] >= counted,
          "%d events + %d dropped < %d counted: drops hidden" %
          (total, rep["events_dropped"], counted))
    m = re.search(r"events dropped: (\d+) \(a ring buffer was full", p2.stderr)
    check(m and int(m.group(1)) > 0, "text report hides the drops: %r" % p2.stderr[-300:])


@test
def unload_with_live_consumer():
    ko = os.environ.get("COWSTAT_KO")
    check(ko, "COWSTAT_KO not set")
    # A perf-event consumer (cowstat trace: perf_event_open on every CPU) follows a workload
    # that faults without end; rmmod comes while it does, then Ctrl-C ends the consumer.
    loop = "while :; do %s 2000 0 > /dev/null; done" % TARGET
    perf = subprocess.Popen([COWSTAT, "trace", "-q", "-o", "/dev/null", "--", "sh", "-c", loop],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3 * SCALE)
        running = perf.poll() is None
        busy = run(["rmmod", "cowstat"])
        perf.send_signal(signal.SIGINT)
        perf_err = perf.communicate(timeout=300 * SCALE)[1]
        check(running, "consumer ended before rmmod: %s" % perf_err.strip())
        check("cowstat:" not in perf_err, "cowstat trace: %s" % perf_err.strip())
        check(busy.returncode != 0 and "in use" in busy.stderr,
              "rmmod with perf attached: exit %d %r" % (busy.returncode, busy.stderr))
        check(os.path.isdir("/sys/kernel/debug/cowstat"), "module gone while in use")
        check(run(["rmmod", "cowstat"]).returncode == 0, "rmmod after perf detached")
    finally:
        if perf.poll() is None:
            perf.kill()
            perf.wait()
        if not os.path.isdir("/sys/kernel/debug/cowstat"):
            p = run(["insmod", ko])
            check(p.returncode == 0, "insmod again: " + p.stderr)


@test
def doc_example_perf_record_g():
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "perf.data")
        p = run(["perf", "record", "-q", "-e", "cowstat:cow_fault", "-g", "-o", data, "--",
                 TARGET, "32", "0"])
        check(p.returncode == 0, "perf record: " + p.stderr.strip())
        p = run(["perf", "script", "-i", data])
        check(p.returncode == 0, "perf script: " + p.stderr.strip())
    # One block per event (header line, then its stack): exactly writer_a's 32 copies have
    # writer_a on their user stack.
    blocks = p.stdout.split("\n\n")
    through = [b for b in blocks if " class=copy region=anon " in b and "writer_a" in b]
    check(len(through) == 32, "%d copy events through writer_a in perf script, want 32: %r" %
          (len(through), p.stdout[-600:]))


@test
def doc_example_bpftrace():
    # bpftrace types a tracepoint's fields from the kernel's BTF; the debug kernel has none
    # (built without DWARF, so without BTF).
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("no BTF on this kernel (CONFIG_DEBUG_INFO_BTF): bpftrace cannot type "
                    "the tracepoint's fields")
    # -c: bpftrace runs the command once its probes are attached, and ends with it.
    prog = ('tracepoint:cowstat:cow_fault /comm == "trace_target"/ '
            '{ @[ustack(3), args->class] = count(); }')
    p = run(["bpftrace", "-e", prog, "-c", "%s 24 0" % TARGET])
    check(p.returncode == 0, "bpftrace: " + p.stderr.strip())
    # One user stack with class 0 (copy) seen 24 times: writer_a's loop. bpftrace names the
    # frames only while the process lives; trace_target has exited when the map is printed.
    check(re.search(r"\n, 0\]: 24\n", p.stdout), "no stack with 24 copies in: %r" % p.stdout[-800:])


@test
def doc_example_trace_cmd():
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "trace.dat")
        p = run(["trace-cmd", "record", "-q", "-o", data, "-e", "cowstat:cow_fault", "-f",
                 "class == 0", "--", TARGET, "20", "0"])
        check(p.returncode == 0, "trace-cmd record: " + (p.stderr or p.stdout)[-300:])
        p = run(["trace-cmd", "report", "-i", data])
    lines = [l for l in p.stdout.splitlines() if "cow_fault:" in l]
    check(len(lines) >= 20, "%d events in trace-cmd report" % len(lines))
    check(all("class=copy" in l for l in lines), "filter class == 0 let others through")


def pyfork(freeze):
    """Workers' (events, copied bytes, by GC, by reference counts) in workloads/pyfork.py."""
    args = ["--", "/usr/bin/python3", os.path.join(TOP, "workloads", "pyfork.py")]
    rep, p = trace_json(args + (["--freeze"] if freeze else []))
    check(p.returncode == 0, "pyfork.py exit %d: %s" % (p.returncode, p.stderr[-300:]))
    check(rep["events_dropped"] == 0, "dropped %d events" % rep["events_dropped"])
    workers = [x for x in rep["processes"] if x["ppid"] == root_pid(rep)]
    check(len(workers) == 2, "%d workers in the report" % len(workers))
    ev = sum(w["events"] for w in workers)
    copied = sum(w["copied_bytes"] for w in workers)
    gc_ = sum(l["copied_bytes"] for w in workers for l in w["locations"]
              if "gcmodule.c" in l["location"] or "Python/gc.c" in l["location"])
    ref = sum(l["copied_bytes"] for w in workers for l in w["locations"]
              if "Py_INCREF" in l["location"] or "object.h" in l["location"] or
              "refcount.h" in l["location"])
    print("# pyfork%s: workers %d faults, %d KiB copied; GC %d KiB, refcounts %d KiB; top %s" %
          (" --freeze" if freeze else "", ev, copied // 1024, gc_ // 1024, ref // 1024,
           [l["location"] for l in workers[0]["locations"][:3]]))
    return ev, copied, gc_, ref


@test
def python_refcounts_and_gc_freeze():
    ev, copied, gc_, ref = pyfork(False)
    fev, fcopied, fgc, fref = pyfork(True)
    # Without freeze the collector's writes are named (Modules/gcmodule.c up to Python 3.12,
    # Python/gc.c from 3.13), and so are the reference counts (Include/object.h, Py_INCREF;
    # Include/refcount.h from 3.13): Debian's python3-dbg (3.11 on 12, 3.13 on 13) is found.
    check(gc_ > 0 and ref > 0, "GC %d, refcounts %d bytes: not named" % (gc_, ref))
    check(fgc * 4 < gc_, "gc.freeze(): GC copies %d, without %d" % (fgc, gc_))
    check(fref > 0, "refcount copies vanished with gc.freeze() (%d)" % fref)
    check(fcopied < copied, "gc.freeze() copied %d >= %d" % (fcopied, copied))


@test
def bad_invocations_one_line():
    # Usage errors exit 2; a command that cannot be run 127, as with "cowstat run".
    cases = [(["-b", "3", "--", "true"], 2), (["-p", "999999"], 1), ([], 2),
             (["-p", "1", "--tree", "1"], 2), (["--", "/nonexistent/cmd"], 127),
             (["-p", "2"], 1), (["--weight", "faults", "--", "true"], 2),
             (["--folded", "/tmp/cowstat-x.folded", "--weight", "bytes", "--", "true"], 2),
             (["--folded", "/nonexistent/dir/x.folded", "--", "true"], 1),
             (["--svg", "/nonexistent/dir/x.svg", "--", "true"], 1)]
    for args, rc in cases:
        p = run([COWSTAT, "trace", "-q"] + args)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == rc and len(lines) >= 1 and lines[-1].startswith("cowstat: "),
              "%s: exit %d %r" % (args, p.returncode, p.stderr))
        if rc != 2:
            check(len(lines) == 1, "%s: %d lines" % (args, len(lines)))


if __name__ == "__main__":
    sys.exit(main())
