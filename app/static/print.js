// Printing: optional help, printing works the same without it.
// - every closed <details> is opened before printing and closed again afterwards (Chromium
//   also prints their content through print.css; other browsers need them open);
// - a [data-print] button (hidden until this script runs) opens the print dialogue.
(function () {
  "use strict";

  var opened = [];

  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (details) {
      details.open = true;
      opened.push(details);
    });
  });

  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) {
      details.open = false;
    });
    opened = [];
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
