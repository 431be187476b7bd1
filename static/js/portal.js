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

// Bookkeeping uploads: the file input's zone also takes files dragged onto it, and lists the
// chosen files. Without script the plain multiple file input works the same.
(function () {
  "use strict";
  function names(zone, input) {
    var list = zone.querySelector("[data-dropzone-files]");
    if (!list) { return; }
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      item.textContent = file.name;
      list.appendChild(item);
    });
  }
  function setUp(zone) {
    var input = zone.querySelector('input[type="file"]');
    if (!input) { return; }
    var hint = zone.querySelector("[data-dropzone-hint]");
    if (hint) { hint.hidden = false; }
    zone.classList.add("dropzone-ready");
    input.addEventListener("change", function () { names(zone, input); });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        names(zone, input);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var zones = document.querySelectorAll("[data-dropzone]");
    Array.prototype.forEach.call(zones, setUp);
    if (zones.length) {
      // a file dropped beside the zone must not replace the page with the file
      ["dragover", "drop"].forEach(function (type) {
        window.addEventListener(type, function (event) {
          if (!event.target.closest || !event.target.closest("[data-dropzone]")) {
            event.preventDefault();
          }
        });
      });
    }
  });
})();

// Bookkeeping (preparing items, rules): a supplier field's list of Exact Online's suppliers,
// searched on the server as one types (a client may have thousands of suppliers).
(function () {
  "use strict";
  var timer = null;
  document.addEventListener("input", function (event) {
    var input = event.target;
    var url = input.getAttribute && input.getAttribute("data-supplier-search");
    var list = url && input.list;
    if (!list) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      fetch(url + "?q=" + encodeURIComponent(input.value), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (found) {
          list.textContent = "";
          found.forEach(function (supplier) {
            var option = document.createElement("option");
            option.value = supplier.code;
            option.textContent = supplier.name;
            list.appendChild(option);
          });
        })
        .catch(function () { /* the list stays as it was */ });
    }, 200);
  });
})();
