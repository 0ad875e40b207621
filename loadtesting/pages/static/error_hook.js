(function () {
  var count = 0;
  function show(message) {
    count += 1;
    document.documentElement.setAttribute("data-js-errors", String(count));
    var box = document.getElementById("js-errors");
    if (box) { box.hidden = false; box.textContent += message + "\n"; }
  }
  window.addEventListener("error", function (event) {
    show("error: " + event.message + " (" + (event.filename || "page") + ":" + event.lineno + ")");
  });
  window.addEventListener("unhandledrejection", function (event) {
    show("unhandled rejection: " + event.reason);
  });
})();
