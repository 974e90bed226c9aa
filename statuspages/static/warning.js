// callprobe support-site warning. Include on any site:
//   <script src="https://status.example.com/static/warning.js" data-page="https://status.example.com/s/acme" data-after-minutes="3" async></script>
// Polls the page's /api/warning.json every 60 s and, while it says "show", pins a
// dismissible banner in the page's colour to the top of the window, linking to the page.
// No dependencies; page text is only ever set as textContent.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.page || !window.fetch) return;
  var base = script.dataset.page.replace(/\/+$/, "");
  var after = script.dataset.afterMinutes || "3";
  var endpoint = base + "/api/warning.json?after_minutes=" + encodeURIComponent(after);
  var storageKey = "callprobe-warning:" + base;
  var banner = null;

  function remembered() {
    try {
      return sessionStorage.getItem(storageKey);
    } catch (e) {
      return null;
    }
  }

  function dismiss(outage) {
    try {
      sessionStorage.setItem(storageKey, outage);
    } catch (e) {
      // Storage blocked: the banner goes away until the next poll only.
    }
    remove();
  }

  function remove() {
    if (banner) banner.remove();
    banner = null;
  }

  function node(tag, style, text) {
    var el = document.createElement(tag);
    Object.assign(el.style, style);
    if (text) el.textContent = text;
    return el;
  }

  function build(data, outage) {
    var color = /^#[0-9a-f]{6}$/i.test(data.page.color) ? data.page.color : "#c62828";
    var url = /^https?:\/\//i.test(data.page.url) ? data.page.url : base;
    var box = node("div", {
      position: "fixed", top: "0", left: "0", right: "0", zIndex: "2147483647",
      display: "flex", alignItems: "center", gap: "12px", padding: "10px 16px",
      background: color, color: "#fff", font: "15px/1.4 system-ui, sans-serif",
      boxShadow: "0 2px 6px rgba(0,0,0,.25)",
    });
    box.className = "callprobe-warning";
    box.setAttribute("role", "status");
    var link = node("a", { color: "inherit", flex: "1", textDecoration: "none" });
    link.href = url;
    link.appendChild(node("strong", {}, data.page.name));
    var affected = data.affected.length ? " (" + data.affected.join(", ") + ")" : "";
    link.appendChild(document.createTextNode(": " + data.text + affected + ". "));
    link.appendChild(node("span", { textDecoration: "underline" }, "Status page"));
    var close = node("button", {
      background: "none", border: "0", color: "inherit", font: "inherit",
      fontSize: "20px", cursor: "pointer", lineHeight: "1",
    }, "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", function () { dismiss(outage); });
    box.appendChild(link);
    box.appendChild(close);
    return box;
  }

  function update(data) {
    var outage = data.down_since || "down";
    if (!data.show || remembered() === outage) {
      remove();
      return;
    }
    var fresh = build(data, outage);
    if (banner) banner.replaceWith(fresh);
    else document.body.appendChild(fresh);
    banner = fresh;
  }

  function check() {
    fetch(endpoint, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) update(data); })
      .catch(function () {});
  }

  function start() {
    check();
    setInterval(check, 60000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
