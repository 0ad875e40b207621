var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
               "#17becf", "#7f7f7f", "#bcbd22"];
var CHARTS_DRAWN = 0;
function chartWidth(el) {
  var width = el.clientWidth || (el.parentNode && el.parentNode.clientWidth) || 900;
  return Math.max(320, Math.min(width, 1100));
}
function fromZero(u, min, max) { return [0, Math.max(max, 1) * 1.05]; }
function drawChart(id, title, xs, lines, options) {
  var el = document.getElementById(id);
  if (!el) { return null; }
  options = options || {};
  var data = [xs];
  var series = [{ label: options.xLabel || "s" }];
  lines.forEach(function (line, index) {
    data.push(line.values);
    var spec = {
      label: line.label,
      stroke: line.color || PALETTE[index % PALETTE.length],
      width: line.width === undefined ? 1.5 : line.width,
      scale: line.scale || "y",
      spanGaps: !!line.spanGaps,
      points: { show: !!line.points || xs.length <= 3, size: line.pointSize || 6,
                fill: line.color || PALETTE[index % PALETTE.length] }
    };
    if (line.dash) { spec.dash = line.dash; }
    if (line.bars) { spec.paths = uPlot.paths.bars({ size: [0.7, 40] });
                     spec.fill = (line.color || PALETTE[index % PALETTE.length]) + "99"; }
    if (line.stepped) { spec.paths = uPlot.paths.stepped({ align: 1 }); }
    series.push(spec);
  });
  var axes = [{ label: options.xLabel || "seconds since the load started" },
              { label: options.yLabel || "", scale: "y" }];
  var scales = { x: { time: false }, y: { range: options.yFromZero === false ? undefined : fromZero } };
  if (options.y2Label) {
    axes.push({ label: options.y2Label, scale: "y2", side: 1, grid: { show: false } });
    scales.y2 = { range: fromZero };
  }
  var chart = new uPlot({ title: title, width: chartWidth(el), height: options.height || 260,
                          scales: scales, series: series, axes: axes }, data, el);
  CHARTS_DRAWN += 1;
  document.documentElement.setAttribute("data-charts-drawn", String(CHARTS_DRAWN));
  return chart;
}
function column(points, index) { return points.map(function (p) { return p[index]; }); }
