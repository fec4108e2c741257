// Draws /dashboard/'s charts from the figures the page carries (the same as /api/v1/stats).
(function () {
  "use strict";
  const figures = JSON.parse(document.getElementById("figures").textContent);
  // Every word on the charts, translated by the server (backend/api/dashboard.py).
  const labels = JSON.parse(document.getElementById("labels").textContent);
  const palette = ["#1c7ed6", "#f59f00", "#e03131", "#2f9e44", "#7048e8", "#0c8599", "#d6336c", "#868e96"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.plugins.legend.position = "bottom";

  function draw(id, type, labels, datasets, options) {
    return new Chart(document.getElementById(id), {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, options || {}),
    });
  }
  const noLegend = { plugins: { legend: { display: false } } };
  const hourLabel = (iso) => iso.slice(5, 13).replace("T", " ") + labels.hour_suffix;

  // The figures list only hours and days that had violations: the axes show every one.
  const perHour = new Map(figures.per_hour.map((row) => [hourLabel(row.hour), row.count]));
  const hours = [];
  for (let back = 47; back >= 0; back -= 1) {
    const hour = new Date(Date.now() - back * 3600 * 1000);
    const local = new Date(hour.getTime() + 9 * 3600 * 1000).toISOString();  // Asia/Seoul, no DST
    hours.push(hourLabel(local));
  }
  draw("chart-hour", "bar", hours,
    [{ label: labels.violations, data: hours.map((hour) => perHour.get(hour) || 0), backgroundColor: palette[0] }], noLegend);
  const perDay = new Map(figures.per_day.map((row) => [row.date, row.count]));
  const days = [];
  for (let day = new Date(figures.date_from + "T00:00:00Z"); day <= new Date(figures.date_to + "T00:00:00Z");
       day = new Date(day.getTime() + 86400 * 1000)) {
    days.push(day.toISOString().slice(0, 10));
  }
  draw("chart-day", "line", days,
    [{ label: labels.violations, data: days.map((day) => perDay.get(day) || 0), borderColor: palette[0], tension: 0.2 }], noLegend);
  draw("chart-camera", "bar", figures.per_camera.map((row) => row.camera_id),
    [{ label: labels.violations, data: figures.per_camera.map((row) => row.count), backgroundColor: palette[5] }],
    Object.assign({ indexAxis: "y" }, noLegend));
  draw("chart-overspeed", "bar", figures.overspeed.map((row) => `+${row.from_kmh}–${row.from_kmh + 10}`),
    [{ label: labels.violations, data: figures.overspeed.map((row) => row.count), backgroundColor: palette[1] }], noLegend);

  const reads = figures.reads;
  draw("chart-reads", "doughnut", [labels.read, labels.review, labels.failed, labels.waiting],
    [{ data: [reads.read, reads.review, reads.failed, reads.waiting], backgroundColor: [palette[3], palette[1], palette[2], palette[7]] }]);
  const pushes = figures.pipeline.notifications;
  const pushLook = { sent: [labels.sent, palette[3]], failed: [labels.failed, palette[2]], pending: [labels.pending, palette[7]] };
  const statuses = Object.keys(pushes);
  draw("chart-pushes", "doughnut", statuses.map((status) => (pushLook[status] || [status])[0]),
    [{ data: statuses.map((status) => pushes[status]),
       backgroundColor: statuses.map((status) => (pushLook[status] || [null, palette[4]])[1]) }]);
  const queues = figures.pipeline.queues;
  draw("chart-queues", "bar", Object.keys(queues),
    [{ label: labels.messages, data: Object.values(queues).map((depth) => (depth === null ? 0 : depth)),
       backgroundColor: Object.keys(queues).map((name) => (name === "dlq_queue" ? palette[2] : palette[4])) }], noLegend);
  document.body.dataset.chartsDrawn = String(Object.keys(Chart.instances).length);
})();
