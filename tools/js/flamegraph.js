// SPDX-License-Identifier: GPL-2.0
/*
 * The flame graph of "cowstat trace --svg", drawn in the SVG document itself by d3-flame-graph
 * (bundled before this script). The frames come from the document's cowstat-data element:
 * {name, src, value, parent}, parents first, the root ("all") at 0; a frame's value is its
 * stacks' weight, its children's included. A frame's hover text (and the line under the
 * graph) gives the function, its source line, the weight and its share of the total; a click
 * zooms into a frame, a click on the root zooms out.
 */
(function () {
	"use strict";
	var data = JSON.parse(document.getElementById("cowstat-data").textContent);
	var nodes = data.frames.map(function (f) {
		return { name: f.name, src: f.src, value: f.value, children: [] };
	});
	var root = nodes[0];

	data.frames.forEach(function (f, i) {
		if (i)
			nodes[f.parent].children.push(nodes[i]);
	});

	/* Binary units, as the text reports give them: "192 KiB", "1.5 MiB". */
	function bytes(b) {
		var units = ["B", "KiB", "MiB", "GiB", "TiB"], u = 0;

		while (b >= 1024 && u < units.length - 1) {
			b /= 1024;
			u++;
		}
		return (u && b < 10 ? b.toFixed(1) : Math.round(b)) + " " + units[u];
	}

	function amount(v) {
		if (data.weight === "faults")
			return v + (v === 1 ? " fault" : " faults");
		return v + (v === 1 ? " page" : " pages") + " copied (" +
			bytes(v * data.page_size) + ")";
	}

	function label(d) {
		var share = root.value ? 100 * d.value / root.value : 0;

		return d.data.name + (d.data.src ? " (" + d.data.src + ")" : "") + "\n" +
			amount(d.value) + ", " + share.toFixed(2) + "% of all";
	}

	var chart = flamegraph.default()
		.width(data.width)
		.cellHeight(data.cell_height)
		.transitionDuration(0)
		.minFrameSize(0)
		.sort(true)
		.title(data.title)
		.label(label)
		.setDetailsElement(document.getElementById("details"));

	d3.select("#chart").datum(root).call(chart);

	/*
	 * The first drawing, final at once: d3-flame-graph grows the boxes and writes the labels
	 * in transitions, which a headless browser's screenshot may catch half-way (seen: the
	 * root 2.4 pixels wide). A box is its share of the width (the partition spans [0, 1]).
	 * Zooming still animates.
	 */
	var frames = d3.select("#chart").selectAll("g.frame");

	frames.select("rect").interrupt().attr("width", function (d) {
		return data.width * (d.x1 - d.x0);
	});
	frames.select("foreignObject").select("div").interrupt().text(function (d) {
		return d.data.name;
	});
})();
