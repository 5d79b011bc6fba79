// The report's charts, drawn by chart.js from the JSON the page carries
// (<script type="application/json" id="ressourcerie-chart-data">). Every chart has a table
// with the same figures beside it. No inline script: the CSP forbids it.
// Colours and patterns come with the figures (modules/ressourcerie/charts.py): one per
// meaning, the same in both charts and their legends; none is chosen here.
(function () {
  const SIZE = 10;
  // Lines of the background colour over a meaning's colour, so that the charts read
  // without telling colours apart (the same patterns as the printed report's CSS).
  const diagonal = [[-1, 1, 1, -1], [0, SIZE, SIZE, 0], [SIZE - 1, SIZE + 1, SIZE + 1, SIZE - 1]];
  const backDiagonal = [[-1, SIZE - 1, 1, SIZE + 1], [0, 0, SIZE, SIZE], [SIZE - 1, -1, SIZE + 1, 1]];
  const LINES = {
    solid: [],
    diagonal: diagonal,
    "back-diagonal": backDiagonal,
    vertical: [[SIZE / 2, 0, SIZE / 2, SIZE]],
    horizontal: [[0, SIZE / 2, SIZE, SIZE / 2]],
    cross: diagonal.concat(backDiagonal),
  };

  function fill(colour, pattern, background) {
    const lines = LINES[pattern] || [];
    if (!lines.length) return colour;
    const tile = document.createElement("canvas");
    tile.width = tile.height = SIZE;
    const g = tile.getContext("2d");
    g.fillStyle = colour;
    g.fillRect(0, 0, SIZE, SIZE);
    g.strokeStyle = background;
    g.lineWidth = 1.5;
    g.beginPath();
    for (const [x1, y1, x2, y2] of lines) {
      g.moveTo(x1, y1);
      g.lineTo(x2, y2);
    }
    g.stroke();
    return g.createPattern(tile, "repeat");
  }

  function draw() {
    const source = document.getElementById("ressourcerie-chart-data");
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
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
            backgroundColor: fill(s.colour, s.pattern, data.background),
            // a line of the background between stacked segments (WCAG 1.4.11: each one
            // then stands out against it, not against its neighbour)
            borderColor: data.background,
            borderWidth: 1,
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
      const ring = data.destinations;
      new Chart(destinations, {
        type: "doughnut",
        data: {
          labels: ring.labels,
          datasets: [
            {
              data: ring.values,
              backgroundColor: ring.colours.map((colour, i) => fill(colour, ring.patterns[i], data.background)),
              borderColor: data.background,
              borderWidth: 2,
            },
          ],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: {
            // The page's own legend, with the figures, is under the ring.
            legend: { display: false },
            tooltip: { callbacks: { label: (c) => `${c.label}: ${number.format(c.parsed)} ${data.unit}` } },
          },
        },
      });
      // Each swatch of that legend painted with its segment's colour and pattern.
      for (const swatch of document.querySelectorAll("canvas[data-legend-index]")) {
        const i = Number(swatch.dataset.legendIndex);
        const g = swatch.getContext("2d");
        g.fillStyle = fill(ring.colours[i], ring.patterns[i], data.background);
        g.fillRect(0, 0, swatch.width, swatch.height);
      }
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
