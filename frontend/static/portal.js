/* The portal's little script: draws the charts (ECharts) from the JSON next to them, and checks a file's
   size before it is uploaded. Chart JSON: {type: "bar"|"line"|"pie", stack, max, categories, series:[{name, data}]}
   (bars are stacked unless `stack` is false). */
(function () {
  "use strict";
  function option(data) {
    var type = data.type || "bar";
    if (type === "pie") {
      return {
        tooltip: { trigger: "item" },
        legend: { top: 0, type: "scroll" },
        series: [{ type: "pie", radius: ["35%", "62%"], center: ["50%", "58%"], data: data.series[0].data,
                   label: { formatter: "{b}: {c}" } }]
      };
    }
    var stack = data.stack === undefined ? type === "bar" : data.stack;
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 40, right: 10, top: 40, bottom: 30, containLabel: true },
      xAxis: { type: "category", data: data.categories, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: data.max ? undefined : 1, max: data.max || undefined },
      series: data.series.map(function (s) {
        return { name: s.name, type: type, stack: stack ? "all" : undefined, data: s.data, connectNulls: true };
      })
    };
  }
  function drawCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = root.querySelector('[data-chart-for="' + el.dataset.chart + '"]');
      if (!source || el.dataset.drawn) { return; }
      var chart = window.echarts.init(el);
      chart.on("finished", function () { el.dataset.rendered = "1"; });
      chart.setOption(option(JSON.parse(source.textContent)));
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  function checkUploads(root) {
    root.querySelectorAll("form[data-max-bytes]").forEach(function (form) {
      var input = form.querySelector("input[type=file]");
      var message = form.querySelector('.field-error[data-field="file"]');
      if (!input || !message) { return; }
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        var tooBig = file && file.size > Number(form.dataset.maxBytes);
        input.setCustomValidity(tooBig ? "> " + Math.floor(Number(form.dataset.maxBytes) / 1048576) + " MB" : "");
        message.hidden = !tooBig;
        if (tooBig) { message.textContent = input.validationMessage; }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); checkUploads(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
