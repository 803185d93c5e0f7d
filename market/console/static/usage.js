// Draws a participant's API calls by day with the vendored uPlot from the page's own data.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("usage-data");
  const el = document.getElementById("chart-usage");
  if (!source || !el || typeof uPlot === "undefined") return;
  const data = JSON.parse(source.textContent);
  const xs = data.days.map((_, i) => i);
  new uPlot({
    width: Math.min(el.clientWidth || 900, 1000), height: 240,
    series: [
      { label: "day", value: (u, i) => data.days[i] ?? "" },
      { label: el.dataset.calls || "calls", stroke: "#0b5cad", width: 2, points: { size: 7 } },
      { label: el.dataset.failed || "failed", stroke: "#b3261e", width: 2, points: { size: 7 } },
    ],
    axes: [{ splits: () => xs, values: (u, ticks) => ticks.map((i) => data.days[i] ?? "") }, {}],
    scales: { x: { time: false, range: () => [-0.5, xs.length - 0.5] } },
  }, [xs, data.calls, data.failed], el);
});
