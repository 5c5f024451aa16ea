#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bundle.sh NODE_MODULES OUT: the script that cowstat trace --svg embeds in a flame graph, one
# file: d3-flame-graph's UMD build (Apache-2.0) after the d3 modules it uses (ISC), in the
# order their UMD builds need each other, each with its licence header, installed from the npm
# registry by make setup (pinned and checked by tools/js/package-lock.json).
set -eu
nm=$1
out=$2
order="internmap d3-array d3-color d3-interpolate d3-format d3-time d3-time-format d3-scale
d3-dispatch d3-timer d3-selection d3-ease d3-transition d3-hierarchy"
[ -d "$nm/d3-flame-graph" ] || {
	echo "bundle.sh: no d3-flame-graph in $nm: run make setup (it installs it with npm)" >&2
	exit 1
}
tmp=$out.tmp
{
	for m in $order; do
		v=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$nm/$m/package.json")
		echo "/* $m $v, ISC licence: $(head -n 1 "$nm/$m/LICENSE") */"
		cat "$nm/$m/dist/$m.min.js"
		echo
	done
	v=$(sed -n 's/^    "version": "\(.*\)",$/\1/p' "$nm/d3-flame-graph/package.json")
	echo "/* d3-flame-graph $v, Apache-2.0 licence, https://github.com/spiermar/d3-flame-graph */"
	cat "$nm/d3-flame-graph/dist/d3-flamegraph.umd.min.js"
	echo
} > "$tmp"
# The bundle goes into an SVG's CDATA section, which this would end.
if grep -q ']]>' "$tmp"; then
	echo "bundle.sh: ']]>' in the bundle: it cannot go into a CDATA section" >&2
	exit 1
fi
mv "$tmp" "$out"
