# SPDX-License-Identifier: GPL-2.0
"""Check the JSON of each cowstat command against Documentation/usage.rst (cli_test).

    json_keys.py USAGE_RST NAME=FILE...

Every key anywhere in the output must be named in the "JSON keys" section of the usage guide,
and the top-level keys of each command must be exactly the documented ones: keys are never
renamed, and a new one is documented and added here at the same time.
"""
import json
import re
import sys

TOP = {
    "ps": {"interface_version", "page_size", "processes"},
    "top": {"time_ns", "interval_s", "page_size", "processes"},
    "version": {"tool_version", "interface_version", "module"},
    "run": {"command", "exit_status", "signal", "elapsed_ns", "interval_ms", "page_size",
            "processes", "totals", "sharing"},
    "show": {"pid", "page_size", "module", "sharing"},
    "show-module": {"pid", "page_size", "module", "sharing"},
    "tree": {"root", "page_size", "backend", "method", "processes", "family", "pairs"},
}


def keys(v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            out.add(k)
            keys(x, out)
    elif isinstance(v, list):
        for x in v:
            keys(x, out)
    return out


def main():
    text = open(sys.argv[1]).read()
    section = re.search(r"\nJSON keys\n=+\n(.*?)\n[^\n]+\n=+\n", text, re.S).group(1)
    documented = set(re.findall(r"``([a-z_]+)``", section))
    bad = []
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        lines = open(path).read().splitlines()
        docs = [json.loads(line) for line in lines] if name == "top" else \
            [json.loads("\n".join(lines))]
        for d in docs:
            if set(d) != TOP[name]:
                bad.append("%s: top-level keys %s, documented %s" %
                           (name, sorted(d), sorted(TOP[name])))
            missing = keys(d, set()) - documented
            if missing:
                bad.append("%s: keys not in usage.rst: %s" % (name, sorted(missing)))
    for b in bad:
        print("# " + b)
    sys.exit(1 if bad else 0)


main()
