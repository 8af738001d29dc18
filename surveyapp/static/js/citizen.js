/* Progressive enhancement for the citizen form: hide questions that do not apply.
 * Elements with data-show-if="<code>" data-show-values="1 2" are shown only while the
 * radio/checkbox named <code> on this page has one of those values. Without this script
 * every question is shown and the server ignores answers to questions that do not apply.
 */
(function () {
  "use strict";
  var form = document.getElementById("citizen-form");
  if (!form) { return; }
  var dependents = form.querySelectorAll("[data-show-if]");
  if (!dependents.length) { return; }

  function chosenValues(code) {
    var inputs = form.querySelectorAll('input[name="' + code + '"]');
    var values = [];
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].checked) { values.push(inputs[i].value); }
    }
    return inputs.length ? values : null;
  }

  function update() {
    for (var i = 0; i < dependents.length; i++) {
      var element = dependents[i];
      var chosen = chosenValues(element.getAttribute("data-show-if"));
      if (chosen === null) { continue; } // the condition reads an earlier page
      var wanted = element.getAttribute("data-show-values").split(" ");
      var show = chosen.some(function (value) { return wanted.indexOf(value) !== -1; });
      element.hidden = !show;
      var notes = element.querySelectorAll(".condition-note");
      for (var j = 0; j < notes.length; j++) { notes[j].hidden = true; }
    }
  }

  form.addEventListener("change", update);
  update();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
