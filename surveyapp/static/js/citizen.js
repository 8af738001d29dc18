/* The citizen form: move the focus to the error summary when there is one (skip logic in
 * the page is static/js/relevance.js). */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
