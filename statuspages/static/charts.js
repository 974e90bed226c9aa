// Draws each figure the server embedded as JSON (plotly.js is served by callprobe).
document.querySelectorAll(".plot[data-figure]").forEach(function (div) {
  var figure = JSON.parse(document.getElementById(div.dataset.figure).textContent);
  var dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  figure.layout.paper_bgcolor = "rgba(0,0,0,0)";
  figure.layout.plot_bgcolor = "rgba(0,0,0,0)";
  figure.layout.font = { color: dark ? "#e7ecf1" : "#17202a" };
  Plotly.newPlot(div, figure.data, figure.layout, { responsive: true, displaylogo: false });
});
