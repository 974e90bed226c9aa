// callprobe operator console: no inline script anywhere (the CSP forbids it), only this.
"use strict";

// A region marked data-refresh="N" (with an id) reloads its contents every N seconds.
function refreshRegions() {
  document.querySelectorAll("[data-refresh][id]").forEach(function (region) {
    var id = region.id;
    var seconds = Math.max(5, parseInt(region.getAttribute("data-refresh"), 10) || 30);
    setInterval(function () {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          var live = document.getElementById(id);
          var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById(id);
          if (live && fresh) { live.replaceWith(fresh); }
        })
        .catch(function () { /* offline a moment: try again next time */ });
    }, seconds * 1000);
  });
}

// Buttons with data-copy="id" copy that element's text.
function copyButtons() {
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      }
    });
  });
}

// Forms with data-confirm="text" ask before they are sent.
function confirmForms() {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  refreshRegions();
  copyButtons();
  confirmForms();
});
