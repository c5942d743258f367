// Optional enhancements of the questionnaire page; it works the same without them.
// - the error summary takes the focus, so screen readers read it first;
// - « À modifier » on one of last year's partners opens its questions in place (without
//   JavaScript, its « Modifier ses réponses » button saves and reloads the page);
// - the progress (« 6 partenaires sur 15 vérifiés ») follows the choices as they are made;
// - after a save the page comes back where the person was.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var SCROLL_KEY = "carte-scroll:" + location.pathname;

  function progressText(done, total) {
    var s = done > 1 ? "s" : "";
    return done + " partenaire" + s + " sur " + total + " vérifié" + s;
  }

  function updateProgress(form) {
    var rows = form.querySelectorAll(".review-list > li > .partner");
    var done = 0;
    Array.prototype.forEach.call(rows, function (row) {
      if (row.querySelector("input[name$='-status']:checked")) done += 1;
    });
    var text = progressText(done, rows.length);
    Array.prototype.forEach.call(form.querySelectorAll(".progress"), function (p) {
      p.textContent = text;
    });
  }

  function openQuestions(form, row) {
    var body = new URLSearchParams();
    Array.prototype.forEach.call(row.querySelectorAll("input"), function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      if (input.name) body.append(input.name, input.value);
    });
    row.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("action") + "/partenaire", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var card = holder.firstElementChild;
        row.replaceWith(card);
        var first = card.querySelector("input[name$='-nature']");
        if (first) first.focus();
      })
      .catch(function () {
        // The page still works: the line's own button saves and reloads with the questions.
        row.removeAttribute("aria-busy");
        var button = row.querySelector("button.no-js");
        if (button) form.requestSubmit(button);
      });
  }

  function onChange(form, event) {
    var input = event.target;
    if (!input.name || !/-status$/.test(input.name)) return;
    var row = input.closest(".partner");
    if (!row) return;
    row.classList.remove("pending", "confirmed", "ended");
    row.classList.add(input.value === "ended" ? "ended" : "confirmed");
    updateProgress(form);
    if (input.value === "edit" && row.classList.contains("review-row")) openQuestions(form, row);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    var form = document.querySelector("form.questionnaire");
    if (!form) return;
    form.addEventListener("change", function (event) { onChange(form, event); });
    form.addEventListener("submit", function () {
      try { sessionStorage.setItem(SCROLL_KEY, String(window.scrollY)); } catch (e) { /* private mode */ }
    });
    var saved = null;
    try { saved = sessionStorage.getItem(SCROLL_KEY); sessionStorage.removeItem(SCROLL_KEY); } catch (e) { /* private mode */ }
    // Back where the person was after a plain save; an anchor in the address wins.
    if (saved !== null && !location.hash && !summary && /[?&]enregistre=1/.test(location.search)) {
      window.scrollTo(0, parseInt(saved, 10) || 0);
    }
  });
})();
