var PAGE = JSON.parse(document.getElementById("page-data").textContent);
Object.keys(PAGE.trends).forEach(function (name) {
  var runs = PAGE.trends[name];
  var xs = runs.map(function (run, i) { return i + 1; });
  drawChart("trend-" + name, name + ": req/s and p95 across runs (oldest first)", xs,
    [{ label: "req/s", values: runs.map(function (run) { return run.rps; }), color: "#1f77b4", points: true },
     { label: "p95 ms", values: runs.map(function (run) { return run.p95_ms; }), color: "#d62728",
       scale: "y2", points: true }],
    { xLabel: "run (oldest first)", yLabel: "req/s", y2Label: "p95 ms", height: 220 });
});
document.documentElement.setAttribute("data-page-ready", "true");
