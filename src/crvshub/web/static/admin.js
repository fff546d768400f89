// Admin pages: copy buttons for secrets, and the webhook permissions shown only for WEBHOOK.
// The pages work without this script: the buttons stay hidden and every field stays visible.
(function () {
  "use strict";
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-copied") || "Copied";
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });
  document.querySelectorAll("select[data-toggles]").forEach(function (select) {
    var target = document.getElementById(select.getAttribute("data-toggles"));
    if (!target) { return; }
    var update = function () {
      target.hidden = select.value !== target.getAttribute("data-shown-for");
    };
    select.addEventListener("change", update);
    update();
  });
}());
