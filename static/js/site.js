// Small enhancements of the public pages; everything works without them.
// Loaded as a file (no inline script), so a Content-Security-Policy can forbid inline code.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // A filter control marked data-autosubmit applies as soon as it is changed with the
  // mouse or a finger.  Changed from the keyboard it waits for the form's button: arrow
  // keys on a closed <select> change its value, and reloading the page on every key
  // press would throw a keyboard user out of the control.
  document.querySelectorAll("[data-autosubmit]").forEach(function (control) {
    var byPointer = false;
    control.addEventListener("pointerdown", function () { byPointer = true; });
    control.addEventListener("keydown", function () { byPointer = false; });
    control.addEventListener("change", function () {
      var form = control.form;
      if (!form || !byPointer) return;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    });
  });

  // The 打印 button prints the page with the print stylesheet (A4 landscape).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
