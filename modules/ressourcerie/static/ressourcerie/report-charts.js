// The report's charts, drawn by chart.js from the JSON the page carries
// (<script type="application/json" id="ressourcerie-chart-data">). Every chart has a table
// with the same figures beside it. No inline script: the CSP forbids it.
(function () {
  function draw() {
    const source = document.getElementById("ressourcerie-chart-data");
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    const colours = { in: "#1d5e3a", reused: "#3f8fce", recycled: "#c58b00", waste: "#8c8c8c" };
    const number = new Intl.NumberFormat(data.locale, { maximumFractionDigits: 1 });
    const monthly = document.getElementById("monthly-chart");
    if (monthly) {
      new Chart(monthly, {
        type: "bar",
        data: {
          labels: data.months,
          datasets: data.series.map((s) => ({
            label: s.label,
            data: s.values,
            backgroundColor: colours[s.key],
            stack: s.key === "in" ? "in" : "out",
          })),
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: data.unit } } },
          plugins: {
            tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${number.format(c.parsed.y)} ${data.unit}` } },
          },
        },
      });
    }
    const destinations = document.getElementById("destinations-chart");
    if (destinations && data.destinations.values.length) {
      new Chart(destinations, {
        type: "doughnut",
        data: {
          labels: data.destinations.labels,
          datasets: [{ data: data.destinations.values, backgroundColor: ["#3f8fce", "#1d5e3a", "#c58b00", "#8c8c8c"] }],
        },
        options: { animation: false, maintainAspectRatio: false },
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
