// Live progress for a newsletter send in the Wagtail admin: polls the JSON endpoint and updates the
// numbers in place. Without JavaScript the page still shows the figures and a Refresh link.
(function () {
  "use strict";
  var root = document.querySelector("[data-send-progress]");
  if (!root) return;
  var url = root.getAttribute("data-progress-url");
  var bar = root.querySelector("progress");
  var finished = ["done", "cancelled"];
  function show(data) {
    Object.keys(data).forEach(function (key) {
      var field = root.querySelector('[data-field="' + key + '"]');
      if (field) field.textContent = data[key] === null ? "—" : data[key];
    });
    if (bar) { bar.value = data.percent; bar.textContent = data.percent + "%"; }
    return finished.indexOf(data.status) === -1;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && show(data)) window.setTimeout(poll, 2000); })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
