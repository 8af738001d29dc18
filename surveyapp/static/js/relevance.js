/* Skip logic in the page: hide the questions that do not apply, as the answers change.
 * An element with data-relevant='<rule as JSON>' (questionnaires.expression_data) is shown
 * only while its rule holds; the answers are read from the form's inputs, or, for answers
 * given on earlier pages, from the form's data-earlier='{"code": value}'. Hidden questions'
 * inputs are disabled, so they are not sent; the server ignores them in any case. The rules
 * follow questionnaires/expressions.py: an unanswered question makes =, <, <=, >, >=, in and
 * selected false and != true. On a paper form keyed in (data-left-blank='<code>'), an answer
 * «left blank on the form» is unknown: a rule that reads it holds, so nothing written is lost.
 * Without this script every question stays visible with its
 * note, and the server keeps only the answers that apply.
 */
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-relevance]");

  function unanswered(value) {
    return value === null || value === undefined || value === "" ||
      (Array.isArray(value) && value.length === 0);
  }

  function compare(op, left, right) {
    switch (op) {
      case "=": return left === right;
      case "!=": return left !== right;
      case "<": return left < right;
      case "<=": return left <= right;
      case ">": return left > right;
      default: return left >= right;
    }
  }

  function compareValue(op, value, literal) {
    if (unanswered(value) || Array.isArray(value)) { return op === "!="; }
    if (typeof literal === "number") {
      var number = typeof value === "number" ? value : Number(String(value).trim());
      if (isNaN(number)) { return op === "!="; }
      return compare(op, number, literal);
    }
    return compare(op, String(value), literal);
  }

  function holds(rule, valueOf) {
    var kind = rule[0];
    if (kind === "and") { return rule.slice(1).every(function (r) { return holds(r, valueOf); }); }
    if (kind === "or") { return rule.slice(1).some(function (r) { return holds(r, valueOf); }); }
    if (kind === "not") { return !holds(rule[1], valueOf); }
    if (kind === "answered") { return !unanswered(valueOf(rule[1])); }
    if (kind === "in") {
      return rule[2].some(function (literal) { return compareValue("=", valueOf(rule[1]), literal); });
    }
    if (kind === "selected") {
      var chosen = valueOf(rule[1]);
      if (unanswered(chosen)) { return false; }
      if (!Array.isArray(chosen)) { chosen = [chosen]; }
      return chosen.some(function (value) { return compareValue("=", value, rule[2]); });
    }
    return compareValue(kind, valueOf(rule[1]), rule[2]);
  }

  function references(rule) {
    var kind = rule[0];
    if (kind === "and" || kind === "or") {
      return rule.slice(1).reduce(function (codes, r) { return codes.concat(references(r)); }, []);
    }
    if (kind === "not") { return references(rule[1]); }
    return [rule[1]];
  }

  function enhance(form) {
    var dependents = form.querySelectorAll("[data-relevant]");
    if (!dependents.length) { return; }
    var earlier = JSON.parse(form.getAttribute("data-earlier") || "{}");
    var leftBlank = form.getAttribute("data-left-blank");

    function valueOf(code) {
      var inputs = form.querySelectorAll('[name="' + code + '"]');
      if (!inputs.length) { return earlier[code]; }
      var values = [];
      var isChoice = false;
      for (var i = 0; i < inputs.length; i++) {
        var input = inputs[i];
        if (input.disabled) { continue; }
        if (input.type === "radio" || input.type === "checkbox") {
          isChoice = true;
          if (input.checked) { values.push(input.value); }
        } else {
          return input.value;
        }
      }
      if (!isChoice) { return null; }
      if (inputs[0].type === "checkbox") { return values; }
      return values.length ? values[0] : null;
    }

    function update() {
      // Document order is questionnaire order: a rule reads answers already settled.
      for (var i = 0; i < dependents.length; i++) {
        var element = dependents[i];
        var rule = JSON.parse(element.getAttribute("data-relevant"));
        var show = references(rule).some(function (code) {
          return leftBlank !== null && valueOf(code) === leftBlank;
        }) || holds(rule, valueOf);
        element.hidden = !show;
        var inputs = element.querySelectorAll("input, textarea, select");
        for (var j = 0; j < inputs.length; j++) { inputs[j].disabled = !show; }
        var notes = element.querySelectorAll(".condition-note");
        for (var k = 0; k < notes.length; k++) { notes[k].hidden = true; }
      }
    }

    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }

  for (var i = 0; i < forms.length; i++) { enhance(forms[i]); }
})();
