// Probe detail charts: draws each chart of the JSON document the page embeds in
// <script type="application/json" id="probe-charts"> (plotly.js is served by callprobe).
"use strict";

function drawProbeCharts() {
  var source = document.getElementById("probe-charts");
  if (!source || typeof Plotly === "undefined") { return; }
  var doc = JSON.parse(source.textContent);
  var dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  doc.charts.forEach(function (chart) {
    var div = document.getElementById("chart-" + chart.id);
    if (!div) { return; }
    var traces = chart.series.map(function (line) {
      return {
        type: "scatter",
        mode: "lines+markers",
        name: line.name,
        x: line.x,
        y: line.y,
        connectgaps: false,
        line: { dash: line.dash || "solid", width: 1.5 },
        marker: { size: 5 },
        hovertemplate: "%{x}<br>%{y:.2f} " + chart.unit
      };
    });
    var layout = {
      height: 240,
      margin: { l: 50, r: 10, t: 10, b: 40 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: dark ? "#e7ecf1" : "#17202a" },
      showlegend: chart.series.length > 1,
      legend: { orientation: "h", y: -0.25 },
      xaxis: { type: "date", range: [doc.start, doc.end] },
      yaxis: { title: { text: chart.unit }, rangemode: chart.unit === "%" ? "tozero" : "normal" }
    };
    Plotly.newPlot(div, traces, layout, { responsive: true, displaylogo: false });
  });
}

document.addEventListener("DOMContentLoaded", drawProbeCharts);
