// The sync page's live progress: poll the JSON endpoint every 2 s while a run is queued or
// going; reload the page once it has finished, so the new run shows in the history.
(function () {
  "use strict";
  var box = document.getElementById("sync-progress");
  if (!box || box.getAttribute("data-active") !== "1") {
    return;
  }
  var bar = box.querySelector("progress");
  var text = box.querySelector(".sync-progress-text");
  var url = box.getAttribute("data-url");
  var INTERVAL = 2000;

  function show(state) {
    box.hidden = false;
    text.textContent = state.message || "";
    bar.max = state.steps || 1;
    if (state.step) {
      bar.value = state.step - 1; // the entities finished before this one
    } else {
      bar.removeAttribute("value"); // indeterminate until the first entity reports
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (state) {
        if (state.running || state.queued) {
          show(state);
          window.setTimeout(poll, INTERVAL);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL * 5); // the server is busy or away: try again later
      });
  }

  window.setTimeout(poll, INTERVAL);
})();
