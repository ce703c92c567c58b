// Fills the facet sidebar of the catalog list when its counts were not ready with the page:
// fetches the same filters' counts from the facets endpoint and shows them in place.
(function () {
  "use strict";
  document.querySelectorAll("[data-facets-src]").forEach(function (aside) {
    fetch(aside.dataset.facetsSrc, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        aside.innerHTML = html;
        aside.removeAttribute("aria-busy");
      })
      .catch(function () {
        var note = aside.querySelector(".loading");
        if (note) { note.textContent = aside.dataset.failed; }
        aside.removeAttribute("aria-busy");
      });
  });
})();
