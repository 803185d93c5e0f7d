// Draws the statistics page's charts with the vendored uPlot from the table's own data.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("chart-data");
  if (!source || typeof uPlot === "undefined") return;
  const data = JSON.parse(source.textContent);
  const xs = data.periods.map((_, i) => i);
  const colours = ["#0b5cad", "#17723b", "#b3261e", "#9a6700", "#6a3ea1"];
  const draw = (id, key) => {
    const el = document.getElementById(id);
    const series = [{ label: "period", value: (u, i) => data.periods[i] ?? "" }];
    const columns = [xs];
    data.categories.forEach((c, n) => {
      series.push({ label: c, stroke: colours[n % colours.length], width: 2, points: { size: 7 } });
      columns.push(data[key][c].map(Number));
    });
    new uPlot({
      width: Math.min(el.clientWidth || 900, 1000), height: 260, series,
      axes: [{ splits: () => xs, values: (u, ticks) => ticks.map((i) => data.periods[i] ?? "") }, {}],
      scales: { x: { time: false, range: () => [-0.5, xs.length - 0.5] } },
    }, columns, el);
  };
  draw("chart-value", "value");
  draw("chart-trades", "trades");
});
