// Optional enhancements of the questionnaire page; it works the same without them.
// - the error summary takes the focus, so screen readers read it first;
// - a filter box above each partner list narrows the (long) list as one types.
(function () {
  "use strict";

  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function addFilter(select) {
    var id = select.id + "-filtre";
    var wrapper = document.createElement("div");
    wrapper.className = "partner-filter";
    var label = document.createElement("label");
    label.setAttribute("for", id);
    label.textContent = "Filtrer la liste :";
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.setAttribute("aria-controls", select.id);
    var count = document.createElement("p");
    count.className = "hint";
    count.setAttribute("aria-live", "polite");
    wrapper.appendChild(label);
    wrapper.appendChild(input);
    wrapper.appendChild(count);
    select.parentNode.insertBefore(wrapper, select);

    var options = Array.prototype.slice.call(select.querySelectorAll("option"));
    input.addEventListener("input", function () {
      var wanted = normalise(input.value.trim());
      var shown = 0;
      options.forEach(function (option) {
        if (!option.value) return; // the "— Choisir —" line stays
        var group = option.parentNode.label || "";
        var match = !wanted || normalise(option.textContent + " " + group).indexOf(wanted) !== -1;
        option.hidden = !match;
        option.disabled = !match && !option.selected;
        if (match) shown += 1;
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      count.textContent = wanted ? shown + " résultat" + (shown > 1 ? "s" : "") : "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    Array.prototype.forEach.call(document.querySelectorAll("select.partner-select"), addFilter);
  });
})();
