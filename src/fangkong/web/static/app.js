/* Draws the charts described by each element's data-chart JSON with the vendored ECharts.
   Maps come from the jurisdiction's own boundaries (/map/<code>.geojson): no tile server.
   Every chart is doubled by a table of the same figures with links, for keyboard users. */
(function () {
  "use strict";
  var palette = ["#fff5f0", "#fcbba1", "#fb6a4a", "#cb181d", "#67000d"];

  function name(p) { return (p.data && p.data.label) || p.name; }

  /* Marks the element once the chart has finished drawing (its animations included). */
  function ready(chart, el) {
    chart.on("finished", function () { el.setAttribute("data-ready", "1"); });
    /* a chart follows its box, not only the window (a card of the command screen shrinks
       when a table under the chart is unfolded) */
    if (window.ResizeObserver) { new ResizeObserver(function () { chart.resize(); }).observe(el); }
    return chart;
  }

  function go(href) { if (href) { window.location.href = href; } }

  function drawMap(el, spec) {
    fetch(spec.geojson, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (geo) {
        echarts.registerMap(spec.map, geo);
        var chart = ready(echarts.init(el), el);
        var max = Math.max.apply(null, spec.data.map(function (d) { return d.value; }).concat([1]));
        chart.setOption({
          tooltip: { trigger: "item", formatter: function (p) { return name(p) + ": " + (p.value || 0) +
            (p.data && p.data.zones ? " \u2691" + p.data.zones : ""); } },
          visualMap: { min: 0, max: max, left: "left", bottom: 10, calculable: false,
                       inRange: { color: palette }, text: [String(max), "0"], textStyle: { color: "#111" } },
          series: [{ type: "map", map: spec.map, roam: false, nameProperty: "code",
                     label: { show: true, color: "#111", fontSize: 13, fontWeight: "bold",
                              textBorderColor: "#fff", textBorderWidth: 3,
                              /* the cases, and a flag with the risk zones in force there */
                              formatter: function (p) { return name(p) + "\n" + (p.value || 0) +
                                (p.data && p.data.zones ? "  \u2691" + p.data.zones : ""); } },
                     labelLayout: { hideOverlap: true },
                     itemStyle: { borderColor: "#333", borderWidth: 1 },
                     emphasis: { label: { color: "#000" }, itemStyle: { areaColor: "#ffbf00" } },
                     data: spec.data }]
        });
        chart.on("click", function (p) { go(p.data && p.data.href); });
        window.addEventListener("resize", function () { chart.resize(); });
      });
  }

  function drawLine(el, spec) {
    var chart = ready(echarts.init(el), el);
    chart.setOption({
      grid: { left: 40, right: 16, top: 16, bottom: 40 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: spec.x, axisLabel: { color: "#111" } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#111" } },
      series: [{ type: "bar", data: spec.y, itemStyle: { color: "#b3261e" } }]
    });
    chart.on("click", function (p) { go(spec.hrefs[p.dataIndex]); });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  /* An estimate per window (spec.y) with its credible interval (spec.lower, spec.upper) and a
     reference line at 1: the reproduction number. */
  function drawInterval(el, spec) {
    var chart = ready(echarts.init(el), el);
    var band = spec.upper.map(function (u, i) { return u - spec.lower[i]; });
    chart.setOption({
      grid: { left: 40, right: 16, top: 16, bottom: 40 },
      tooltip: { trigger: "axis", formatter: function (ps) {
        var i = ps[0].dataIndex;
        return spec.x[i] + ": " + spec.y[i].toFixed(2) + " [" + spec.lower[i].toFixed(2) + ", " +
          spec.upper[i].toFixed(2) + "]";
      } },
      xAxis: { type: "category", data: spec.x, axisLabel: { color: "#111" } },
      yAxis: { type: "value", axisLabel: { color: "#111" } },
      series: [
        { type: "line", data: spec.lower, stack: "ci", symbol: "none", lineStyle: { opacity: 0 } },
        { type: "line", data: band, stack: "ci", symbol: "none", lineStyle: { opacity: 0 },
          areaStyle: { color: "#f4b6b0" } },
        { type: "line", data: spec.y, symbol: "circle", itemStyle: { color: "#b3261e" },
          markLine: { silent: true, symbol: "none", data: [{ yAxis: 1 }],
                      lineStyle: { color: "#333", type: "dashed" } } }
      ]
    });
    chart.on("click", function (p) { go(spec.hrefs[p.dataIndex]); });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  /* A case's transmission chain: one column per generation (positions from the page), an
     arrow per link with its date; this case outlined, other jurisdictions' cases grey. */
  function drawGraph(el, spec) {
    var chart = ready(echarts.init(el), el);
    chart.setOption({
      tooltip: { formatter: function (p) { return p.dataType === "edge" ? p.data.label : p.name; } },
      series: [{
        type: "graph", layout: "none", roam: true, symbolSize: 18,
        zoom: 0.75,  /* room at the sides for the end nodes' labels */
        edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8,
        label: { show: true, position: "bottom", color: "#111", fontSize: 12,
                 width: 100, overflow: "break" },
        edgeLabel: { show: true, fontSize: 11, color: "#555",
                     formatter: function (p) { return p.data.label; } },
        lineStyle: { color: "#777", width: 1.5 },
        data: spec.nodes.map(function (n) {
          return { name: n.name, x: n.x, y: n.y, href: n.href,
                   itemStyle: { color: n.masked ? "#bbb" : "#b3261e",
                                borderColor: n.self ? "#111" : "#fff", borderWidth: n.self ? 3 : 1 } };
        }),
        links: spec.edges.map(function (e) { return { source: e.source, target: e.target, label: e.label }; })
      }]
    });
    chart.on("click", function (p) { if (p.dataType === "node") { go(p.data.href); } });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  /* htmx requests that change something carry the page's CSRF token (fangkong.web.csrf). */
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { e.detail.headers["X-CSRFToken"] = meta.getAttribute("content"); }
  });

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = JSON.parse(el.getAttribute("data-chart"));
    if (spec.type === "map") { drawMap(el, spec); } else if (spec.type === "line") { drawLine(el, spec); }
    else if (spec.type === "interval") { drawInterval(el, spec); }
    else if (spec.type === "graph") { drawGraph(el, spec); }
  });
})();
