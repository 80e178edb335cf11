// The copy editor: instant character counts while the server's checks are on their way, and
// selecting words in a field anchors the next comment to them. Everything works without it.
(function () {
  "use strict";

  function chars(text) {
    // Characters as the checks count them (code points, not UTF-16 units).
    return Array.from(text).length;
  }

  function updateCount(area) {
    var count = document.getElementById(area.dataset.count);
    if (!count) return;
    var max = parseInt(area.dataset.max || "0", 10);
    var n = chars(area.value);
    var rest = count.textContent.replace(/^\d+/, "");
    count.textContent = n + rest;
    count.classList.toggle("count-over", max > 0 && n > max);
  }

  function anchorSelection(area) {
    var start = area.selectionStart;
    var end = area.selectionEnd;
    if (start === end) return;
    var field = document.getElementById("comment-field");
    var quote = document.getElementById("comment-quote");
    if (!field || !quote) return;
    field.value = area.dataset.path;
    if (field.value !== area.dataset.path) return; // a new item: not in the saved version
    quote.value = area.value.slice(start, end);
    // Offsets only while the field still says what the saved version says.
    var saved = area.value === area.defaultValue;
    document.getElementById("comment-start").value = saved ? chars(area.value.slice(0, start)) : "";
    document.getElementById("comment-end").value = saved ? chars(area.value.slice(0, end)) : "";
  }

  document.addEventListener("input", function (event) {
    var area = event.target;
    if (area.matches && area.matches("textarea[data-count]")) updateCount(area);
    if (area.id === "comment-quote" || area.id === "comment-field") {
      // A passage typed by hand: let the server find it.
      document.getElementById("comment-start").value = "";
      document.getElementById("comment-end").value = "";
    }
  });
  ["mouseup", "keyup"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var area = event.target;
      if (area.matches && area.matches("textarea[data-path]")) anchorSelection(area);
    });
  });
})();
