// mendoza viewer: the little JavaScript there is (no build step, no inline script).
// Keyboard: any element with data-key="x" is clicked (links, buttons) or focused (fields) when x is pressed.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      if (typing(document.activeElement)) document.activeElement.blur();
      return;
    }
    if (typing(event.target)) return;
    if (event.key === "?") {
      var help = document.getElementById("keys-help");
      if (help) help.classList.toggle("hidden");
      return;
    }
    if (!/^[a-z\/]$/.test(event.key)) return;
    var element = document.querySelector('[data-key="' + event.key + '"]');
    if (!element) return;
    event.preventDefault();
    var tag = element.tagName.toLowerCase();
    if (tag === "textarea" || tag === "input" || tag === "select") {
      element.focus();
    } else {
      element.click();
    }
  });

  // Filter forms apply as soon as a box is ticked or a choice is made.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target && event.target.type !== "search") form.requestSubmit();
    });
  });
})();
