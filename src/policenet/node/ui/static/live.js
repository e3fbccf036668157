// policenet node UI: small progressive enhancements. Every page works without this file.
// - the case inbox refreshes itself when the node hears of a case event (Server-Sent Events);
// - deadline countdowns tick every 30 seconds;
// - a message form shows only the fields of the form chosen.
(function () {
  "use strict";

  function minutesLeft(iso) {
    return Math.floor((Date.parse(iso) - Date.now()) / 60000);
  }

  // the words come from the page (the message catalogue), never from this file
  function tick() {
    var body = document.body;
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var left = minutesLeft(el.getAttribute("datetime"));
      var overdue = left < 0;
      var m = Math.abs(left);
      var template = body.getAttribute(overdue ? "data-overdue" : "data-due-in") || "";
      el.textContent = template
        .replace("{hours}", String(Math.floor(m / 60)))
        .replace("{minutes}", String(m % 60));
      el.classList.toggle("overdue", overdue);
    });
  }

  function follow(inbox) {
    if (!window.EventSource) return;
    var rows = inbox.getAttribute("data-live-rows");
    var source = new EventSource(inbox.getAttribute("data-live-source"));
    var state = document.querySelector("[data-live-state]");
    source.addEventListener("open", function () { if (state) state.hidden = false; });
    source.addEventListener("error", function () { if (state) state.hidden = true; });
    source.addEventListener("cases", function () {
      fetch(rows, { credentials: "same-origin", headers: { "accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var main = doc.querySelector("main");
          inbox.replaceChildren.apply(inbox, Array.from((main || doc.body).childNodes));
          tick();
        });
    });
  }

  function formFields(select) {
    function show() {
      document.querySelectorAll("fieldset[data-form]").forEach(function (set) {
        set.hidden = set.getAttribute("data-form") !== select.value;
      });
    }
    select.addEventListener("change", show);
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    var kind = document.querySelector("select#kind");
    if (kind) formFields(kind);
    window.setInterval(tick, 30000);
    var inbox = document.querySelector("[data-live-source]");
    if (inbox) follow(inbox);
  });
})();
