var PAGE = JSON.parse(document.getElementById("page-data").textContent);
(function () {
  var s = PAGE.samples;
  if (s && s.requests) {
    var r = s.requests;
    drawChart("chart-rps", "req/s per endpoint group", r.t,
      [{ label: "all", values: r.total_rps, width: 2.5, color: "#222" }].concat(
        r.groups.map(function (g, i) { return { label: g, values: r.rps[g], color: PALETTE[i] }; })),
      { yLabel: "req/s" });
    var lat = [];
    r.groups.forEach(function (g, i) {
      lat.push({ label: g + " p95", values: r.p95_ms[g], color: PALETTE[i] });
      lat.push({ label: g + " p50", values: r.p50_ms[g], color: PALETTE[i], dash: [4, 4], width: 1 });
    });
    drawChart("chart-latency", "p50 / p95 per endpoint group (ms)", r.t, lat, { yLabel: "ms" });
    drawChart("chart-stockouts", "stock-outs (409 insufficient_stock) and failures per second", r.t,
      [{ label: "stock-outs/s", values: r.stock_outs_per_s, color: "#ff7f0e", bars: true },
       { label: "failures/s", values: r.failures_per_s, color: "#d62728", bars: true }],
      { yLabel: "per second" });
  }
  if (s && s.hot_stock && Object.keys(s.hot_stock.products).length) {
    var skus = Object.keys(s.hot_stock.products).sort();
    var joined = uPlot.join(skus.map(function (sku) {
      var points = s.hot_stock.products[sku].points;
      return [column(points, 0), column(points, 1)];
    }));
    drawChart("chart-stock", "the hot products' stock (units)", joined[0],
      skus.map(function (sku, i) { return { label: sku, values: joined[i + 1], stepped: true, spanGaps: true }; }),
      { yLabel: "units in stock" });
  }
  if (s && s.server && s.server.length) {
    drawChart("chart-server", "server: RSS of master + workers (MB) and CPU (%)", column(s.server, 0),
      [{ label: "RSS MB", values: column(s.server, 1), color: "#1f77b4" },
       { label: "CPU %", values: column(s.server, 2), color: "#d62728", scale: "y2" }],
      { yLabel: "MB", y2Label: "CPU %" });
  }
  if (s && s.generator && s.generator.length) {
    drawChart("chart-generator", "load generator CPU (% of one core)", column(s.generator, 0),
      [{ label: "CPU %", values: column(s.generator, 1), color: "#9467bd" }], { yLabel: "CPU %" });
  }
  if (s && s.race && s.race.t_ms.length) {
    drawChart("chart-race", "the race's answers since the barrier's release", s.race.t_ms,
      [{ label: "201 created", values: s.race.created, color: "#2ca02c", stepped: true, points: true },
       { label: "409 insufficient_stock", values: s.race.refused, color: "#ff7f0e", stepped: true, points: true },
       { label: "anything else", values: s.race.other, color: "#d62728", stepped: true }],
      { xLabel: "ms since the release", yLabel: "answers so far" });
  }
  var c = PAGE.capacity;
  if (c && c.steps && c.steps.length) {
    var users = c.steps.map(function (st) { return st.users; });
    drawChart("chart-capacity", "throughput and p95 against users (the knee marked)", users,
      [{ label: "req/s", values: c.steps.map(function (st) { return st.rps; }), color: "#1f77b4", points: true },
       { label: "p95 ms", values: c.steps.map(function (st) { return st.p95_ms; }), color: "#d62728",
         scale: "y2", points: true },
       { label: "capacity (last step within the SLO)", width: 0, points: true, pointSize: 14, color: "#2ca02c",
         values: c.steps.map(function (st) { return st.users === c.max_users ? st.rps : null; }) }],
      { xLabel: "users", yLabel: "req/s", y2Label: "p95 ms" });
  }
  document.documentElement.setAttribute("data-page-ready", "true");
})();
