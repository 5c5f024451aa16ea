#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
The pictures a guest's tests drew, opened as a person would: in a headless browser, Debian's
chromium, on the host (scripts/run-tests.sh runs it on each guest's pictures directory, the
COWSTAT_PICTURES of scripts/guest-run.sh). KTAP output.

  pictures_test.py DIR

  - flamegraph.svg (selftests/trace_test.py, flamegraph_svg_exact): chromium runs its
    embedded d3-flame-graph without a script error; the drawn document has one frame per
    frame of its data, each frame's box as wide as its share of the total, its hover text
    the function, its source line, its pages and its share; a screenshot is a PNG of the
    window's size that is not blank.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "selftests"))
from ktap import Skip, check, main, test  # noqa: E402
from png import png_rows  # noqa: E402

DIR = sys.argv[1] if len(sys.argv) > 1 else ""
SVG = "{http://www.w3.org/2000/svg}"
# As the machine's notes give them: no sandbox as root, and no background connections.
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000"]


def chromium(args, url):
    with tempfile.TemporaryDirectory() as profile:
        p = subprocess.run(CHROMIUM + ["--user-data-dir=" + profile] + args + [url],
                           capture_output=True, text=True, timeout=120)
    # What the page's scripts logged: an uncaught error is a failure.
    console = [l for l in p.stderr.splitlines() if ":CONSOLE" in l]
    bad = [l for l in console if re.search(r"Uncaught|Error", l)]
    check(not bad, "script errors: %s" % bad)
    return p


def screenshot(url, width, height, png):
    """A screenshot of @url in a window of the SVG's size: its rows, checked for size."""
    chromium(["--screenshot=" + png, "--window-size=%d,%d" % (width, height)], url)
    w, h, bpp, rows = png_rows(png)
    check((w, h) == (width, height), "screenshot %dx%d, want %dx%d" % (w, h, width, height))
    return bpp, rows


@test
def flamegraph_svg_in_chromium():
    svg = os.path.join(DIR, "flamegraph.svg")
    if not os.path.exists(svg):
        raise Skip("no %s: the guest's trace_test did not draw it" % svg)
    doc = ET.parse(svg).getroot()
    data = json.loads(doc.find(SVG + "script[@id='cowstat-data']").text)
    frames, total = data["frames"], data["frames"][0]["value"]
    width, height = int(doc.get("width")), int(doc.get("height"))
    url = "file://" + os.path.abspath(svg)

    dom = chromium(["--dump-dom"], url).stdout
    drawn = ET.fromstring(dom)
    boxes = drawn.findall(".//" + SVG + "g[@class='frame']")
    check(len(boxes) == len(frames), "%d frames drawn, %d in the data" % (len(boxes),
                                                                        len(frames)))
    seen = 0
    for g in boxes:
        rect, title = g.find(SVG + "rect"), g.find(SVG + "title").text
        head, _, tail = title.partition("\n")
        m = re.fullmatch(r"(\d+) pages? copied \([^)]*\), (\d+\.\d\d)% of all", tail)
        check(m, "hover text %r" % title)
        pages = int(m.group(1))
        same = [f for f in frames if f["value"] == pages and head ==
                f["name"] + (" (%s)" % f["src"] if f["src"] else "")]
        check(same, "hover text %r matches no frame of the data" % title)
        check(abs(float(m.group(2)) - 100 * pages / total) < 0.006, "share in %r" % title)
        check(abs(float(rect.get("width")) - width * pages / total) < 0.01,
              "%s: %s px wide, want %.2f" % (head, rect.get("width"), width * pages / total))
        seen += head.startswith("writer_a (") and pages == 48
        seen += head.startswith("writer_b (") and pages == 16
    check(seen == 2, "writer_a's 48 pages and writer_b's 16 not both drawn")

    bpp, rows = screenshot(url, width, height, os.path.join(DIR, "flamegraph.png"))
    # The frames are drawn in warm colours: many pixels far from white and grey.
    warm = sum(1 for row in rows for x in range(0, len(row), bpp)
               if row[x] > 150 and row[x] - row[x + 2] > 60)
    check(warm > width * 18, "screenshot nearly blank: %d warm pixels" % warm)


@test
def erosion_svg_in_chromium():
    svg = os.path.join(DIR, "erosion.svg")
    if not os.path.exists(svg):
        raise Skip("no %s: the guest's plot_test did not draw it" % svg)
    doc = ET.parse(svg).getroot()
    width, height = int(doc.get("width")), int(doc.get("height"))
    want = [t.text for t in doc.iter(SVG + "text") if t.text]
    url = "file://" + os.path.abspath(svg)
    drawn = ET.fromstring(chromium(["--dump-dom"], url).stdout)
    got = [t.text for t in drawn.iter(SVG + "text") if t.text]
    check(got == want, "the browser's texts differ from the file's")
    bpp, rows = screenshot(url, width, height, os.path.join(DIR, "erosion.png"))
    # gnuplot's curves are coloured: pixels whose channels differ much (not grey or white).
    colour = sum(1 for row in rows for x in range(0, len(row), bpp)
                 if max(row[x:x + 3]) - min(row[x:x + 3]) > 80)
    check(colour > 2 * width, "screenshot without curves: %d coloured pixels" % colour)


if __name__ == "__main__":
    check_dir = DIR and os.path.isdir(DIR)
    if not check_dir:
        print("usage: pictures_test.py DIR (a guest's pictures directory)", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
