/* The portal's little script: draws the dashboard charts (ECharts) from the JSON next to them. */
(function () {
  "use strict";
  function drawCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = root.querySelector('[data-chart-for="' + el.dataset.chart + '"]');
      if (!source || el.dataset.drawn) { return; }
      var data = JSON.parse(source.textContent);
      var chart = window.echarts.init(el);
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 10, top: 40, bottom: 30 },
        xAxis: { type: "category", data: data.categories },
        yAxis: { type: "value", minInterval: 1 },
        series: data.series.map(function (s) { return { name: s.name, type: "bar", stack: "all", data: s.data }; })
      });
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
