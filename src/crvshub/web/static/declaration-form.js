// Declaration forms: show a field or section only when the field it depends on has a value
// that needs it (place of birth = home -> address; informant = someone else -> their details).
// Without this script every field is shown as the server rendered it and the server ignores
// the values of fields that do not apply.
(function () {
  "use strict";
  var form = document.querySelector("form.declaration-form");
  if (!form) { return; }
  var valueOf = function (name) {
    var checked = form.querySelector("[name='" + name + "']:checked");
    if (checked) { return checked.value; }
    var input = form.querySelector("select[name='" + name + "'], input[name='" + name + "']:not([type=radio])");
    return input ? input.value : "";
  };
  var update = function () {
    form.querySelectorAll("[data-when-field]").forEach(function (part) {
      var values = part.getAttribute("data-when-values").split(" ");
      var value = valueOf(part.getAttribute("data-when-field"));
      var inside = values.indexOf(value) >= 0;
      // "Not in" needs an answer too: nothing chosen shows neither.
      part.hidden = part.hasAttribute("data-when-negate") ? (inside || value === "") : !inside;
    });
  };
  form.addEventListener("change", update);
  update();
  var errors = document.querySelector("[data-testid=form-errors]");
  if (errors) { errors.focus(); }
}());
