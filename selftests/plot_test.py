#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
"cowstat run --plot", in the VM with cowstat.ko loaded (scripts/guest-run.sh), KTAP output.
The family of workloads/family (3 children write 10, 20 and 30 heap pages, the parent 40,
then they wait 600 ms) is run with a plot:

  - the SVG is well-formed, of the documented size, titled with the command; its key gives
    the text report's numbers, in its units (--bytes here): the peak and last shared and
    saved memory, and each process's pid, name and COPIED; each copied its pages at least;
  - more than 10 processes: the 10 that copied the most have a curve each, the others one;
  - a command that never forks is drawn too (nothing shared, time from its start);
  - the PNG is a PNG of the documented size;
  - a plot that cannot be drawn is refused in one line before the command runs (a name that
    is neither .svg nor .png), or after the report (a directory that does not exist), and
    never leaves a file behind;
  - the SVG is kept for the host's browser (host-tests/pictures_test.py) in $COWSTAT_PICTURES.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap import Fail, check, main, test  # noqa: E402
from png import png_image  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COWSTAT = os.path.join(TOP, "tools", "cowstat")
FAMILY = [os.path.join(TOP, "workloads", "family"), "-n", "300", "-c", "3", "-k", "10,20,30",
          "-p", "40", "-s", "600"]
SCALE = int(os.environ.get("COWSTAT_TIME_SCALE", "1") or 1)
WIDTH, HEIGHT = 1000, 700
SVG = "{http://www.w3.org/2000/svg}"
PAGE = 4096


def run(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout * SCALE)


def report_numbers(text):
    """From run's text report: peak and last shared, peak and last saved, {pid: COPIED}."""
    peak = re.search(r"^  peak shared   (.+), \S+ after fork, \d+ processes$", text, re.M)
    last = re.search(r"^  last shared   (.+), \S+ after fork, \d+ processes$", text, re.M)
    saved = re.search(r"^  saved by COW  (.+) at the peak, (.+) at the last sample$", text,
                      re.M)
    check(peak and last and saved, "no peak, last or saved line in the report: %r" % text)
    lines = text.splitlines()
    head = [i for i, l in enumerate(lines) if l.split()[:4] == ["PID", "PPID", "COMM", "STATE"]]
    check(len(head) == 1, "no process table in the report")
    copied = {}
    for l in lines[head[0] + 1:]:
        w = l.split()
        if not w or not w[0].isdigit():
            break
        copied[int(w[0])] = (w[2], w[-1])
    return peak.group(1), last.group(1), saved.group(1), saved.group(2), copied


def texts(path):
    try:
        doc = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise Fail("%s is not well-formed XML: %s" % (path, e))
    check(doc.tag == SVG + "svg", "root element %s" % doc.tag)
    check((doc.get("width"), doc.get("height")) == (str(WIDTH), str(HEIGHT)),
          "SVG %sx%s, want %dx%d" % (doc.get("width"), doc.get("height"), WIDTH, HEIGHT))
    return [t.text for t in doc.iter(SVG + "text") if t.text]


def run_plot(opts, cmd, path):
    """cowstat run OPTS --plot PATH -- CMD, which must succeed: its report (stderr)."""
    p = run([COWSTAT, "run"] + opts + ["--plot", path, "--"] + cmd)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr[-300:]))
    return p.stderr


def process_keys(got):
    """The key's "PID COMM: COPIED" entries (--bytes), sorted."""
    return sorted(t for t in got if re.fullmatch(r"\d+ \S+: \d+", t))


@test
def svg_key_gives_the_report():
    with tempfile.TemporaryDirectory() as d:
        svg = os.path.join(d, "erosion.svg")
        report = run_plot(["--bytes", "-i", "20"], FAMILY, svg)
        got = texts(svg)
        if os.environ.get("COWSTAT_PICTURES"):
            shutil.copy(svg, os.environ["COWSTAT_PICTURES"])
    peak, last, speak, slast, copied = report_numbers(report)
    check("cowstat run: " + " ".join(FAMILY) in got, "no title with the command: %s" % got)
    want = ["shared: peak %s, last %s" % (peak, last),
            "saved by COW: peak %s, last %s" % (speak, slast)]
    missing = [w for w in want if w not in got]
    check(not missing, "not in the plot's key: %s (its texts: %s)" % (missing, got))
    # Every process of the report has its curve, and no other is in the key.
    keyed = process_keys(got)
    want = sorted("%d %s: %s" % (pid, comm, c) for pid, (comm, c) in copied.items())
    check(keyed == want, "key %s, want %s" % (keyed, want))
    check(len(copied) == 4, "%d processes in the report, want 4" % len(copied))
    check(any(t.startswith("seconds since the first fork") for t in got), "no x axis label")
    # --bytes: COPIED is a number of bytes. Each process copied its writes at least (the
    # children's start and the parent's stack add a few pages); the root is the first row.
    pages = [int(c) // PAGE for _, c in copied.values()]
    check(pages[0] >= 40 and all(a >= b for a, b in zip(sorted(pages[1:]), [10, 20, 30])),
          "copied pages %s, want at least 40 and 10, 20, 30" % pages)


@test
def eleven_processes_and_more_share_one_curve():
    # 12 children: the 10 processes that copied the most have a curve each, the other 3 one.
    # 5 + 10 + ... + 60 and 40 pages written: 430 of the 600.
    fam = FAMILY[:1] + ["-n", "600", "-c", "12", "-k",
                        ",".join(str(5 * i) for i in range(1, 13)), "-p", "40", "-s", "600"]
    with tempfile.TemporaryDirectory() as d:
        svg = os.path.join(d, "many.svg")
        copied = report_numbers(run_plot(["--bytes", "-i", "50"], fam, svg))[4]
        got = texts(svg)
    check(len(copied) == 13, "%d processes in the report" % len(copied))
    top = sorted(copied.items(), key=lambda x: (-int(x[1][1]), x[0]))[:10]
    want = sorted("%d %s: %s" % (pid, comm, c) for pid, (comm, c) in top)
    check(process_keys(got) == want, "key %s, want the 10 largest %s" % (process_keys(got),
                                                                         want))
    check("3 other processes" in got, "no curve for the other 3: %s" % got)


@test
def no_fork_no_sharing_still_drawn():
    # A command that never forks: nothing shared, one process; the time runs from its start.
    with tempfile.TemporaryDirectory() as d:
        svg = os.path.join(d, "alone.svg")
        report = run_plot(["--bytes"], ["sleep", "0.3"], svg)
        got = texts(svg)
    check("nothing was shared" in report, "report: %r" % report[-300:])
    check("shared: none (no sample of two processes)" in got, "key %s" % got)
    keyed = process_keys(got)
    check(len(keyed) == 1 and re.fullmatch(r"\d+ sleep: \d+", keyed[0]), "key %s" % keyed)
    check("seconds since the command started (it never forked)" in got, "x axis %s" % got)


@test
def png_of_the_documented_size():
    with tempfile.TemporaryDirectory() as d:
        png = os.path.join(d, "erosion.png")
        run_plot(["-i", "20"], FAMILY, png)
        w, h = png_image(png)[:2]
        check((w, h) == (WIDTH, HEIGHT), "PNG %dx%d" % (w, h))
        check(os.listdir(d) == ["erosion.png"], "files left: %s" % os.listdir(d))


@test
def bad_plots_one_line():
    with tempfile.TemporaryDirectory() as d:
        mark = os.path.join(d, "ran")
        p = run([COWSTAT, "run", "--plot", os.path.join(d, "x.txt"), "--", "touch", mark])
        check(p.returncode == 2 and len(p.stderr.splitlines()) == 1,
              "x.txt: exit %d, %r" % (p.returncode, p.stderr))
        check("FILE.svg or FILE.png" in p.stderr, "x.txt: %r" % p.stderr)
        check(not os.path.exists(mark), "the command ran for a plot that cannot be drawn")
        bad = os.path.join(d, "no", "such", "dir", "x.svg")
        p = run([COWSTAT, "run", "--plot", bad, "--", "true"])
        err = p.stderr.strip().splitlines()
        check(p.returncode == 1 and err and err[-1].startswith("cowstat: --plot: cannot write"),
              "missing directory: exit %d, %r" % (p.returncode, p.stderr[-300:]))
        check("cowstat run: true" in p.stderr, "the report was not printed before: %r"
              % p.stderr[-300:])
        check(os.listdir(d) == [], "files left: %s" % os.listdir(d))


if __name__ == "__main__":
    sys.exit(main())
