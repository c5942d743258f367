// « Tout cocher »: optional help for the bulk actions (renew links, left the post). Without
// this script the buttons stay hidden and each box is checked by hand; the forms work alike.
(function () {
  "use strict";

  document.querySelectorAll("[data-check-all]").forEach(function (button) {
    var region = document.getElementById(button.getAttribute("data-check-all"));
    if (!region) return;
    var checkText = button.textContent;
    var uncheckText = button.getAttribute("data-uncheck") || checkText;
    var boxes = function () {
      return Array.prototype.slice.call(region.querySelectorAll("input[type=checkbox]"));
    };
    var refresh = function () {
      var all = boxes().length > 0 && boxes().every(function (b) { return b.checked; });
      button.textContent = all ? uncheckText : checkText;
    };
    button.hidden = false;
    button.addEventListener("click", function () {
      var all = boxes().every(function (b) { return b.checked; });
      boxes().forEach(function (b) { b.checked = !all; });
      refresh();
    });
    region.addEventListener("change", refresh);
  });
})();
