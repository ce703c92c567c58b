// Keeps a run's progress bar current: asks the run's progress endpoint every two seconds
// and reloads the page (with its results) once the run is over.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-src]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  function show(data) {
    bar.value = data.percent;
    bar.textContent = data.percent + "%";
    box.querySelectorAll("[data-field]").forEach(function (node) {
      var value = data[node.dataset.field];
      if (value === undefined) { return; }
      node.textContent = typeof value === "number" && node.dataset.field !== "percent"
        ? value.toLocaleString(document.documentElement.lang || undefined) : value;
    });
  }
  function poll() {
    fetch(box.dataset.progressSrc, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.active) { window.setTimeout(poll, 2000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
