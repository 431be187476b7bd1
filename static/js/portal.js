// Every page: a form with data-confirm="question" asks before it is sent. (No inline script:
// the Content-Security-Policy allows scripts from this site's files only.)
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
