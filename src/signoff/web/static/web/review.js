// Review shortcuts for the package page and the board (listed in the "?" overlay,
// templates/web/_shortcuts.html). A static file: the CSP allows no inline script.
// Keys act only when no control has focus (a field, a button, a link: Enter there keeps its
// own meaning) and no modifier is held, except the documented ones: Shift for "?", and
// Ctrl+Enter (Cmd+Enter on a Mac) in the reject note, which rejects with it. A disabled
// button stays disabled (the gate panel says why).
(function () {
  "use strict";

  function ownKeys(target) {
    // Controls that do something with the keys themselves (Enter follows a link, presses a
    // button, submits a form): shortcuts leave them alone.
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || tag === "BUTTON" ||
      tag === "A" || tag === "SUMMARY" || !!(target && target.isContentEditable);
  }

  function press(selector) {
    var el = document.querySelector(selector);
    if (!el || el.disabled) return false;
    el.click();
    return true;
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  // --- board rows ---------------------------------------------------------------------
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#board-table tbody tr[data-package]"));
  }

  function moveRow(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.findIndex(function (r) { return r.classList.contains("kb-current"); });
    var next = Math.min(Math.max(at + step, 0), all.length - 1);
    if (at >= 0) {
      all[at].classList.remove("kb-current");
      all[at].removeAttribute("aria-current");
    }
    var row = all[next];
    row.classList.add("kb-current");
    row.setAttribute("aria-current", "true");
    // Focus the row, not its link: keys typed on a link are the link's (Enter follows it).
    row.tabIndex = -1;
    row.focus();
  }

  function currentRow() {
    return document.querySelector("#board-table tr.kb-current");
  }

  function batch(action) {
    var form = document.getElementById("batch-form");
    if (!form || !document.querySelector("input.row-check:checked")) return false;
    form.querySelector("select[name=action]").value = action;
    form.requestSubmit();
    return true;
  }

  function onBoard(key) {
    if (key === "j") { moveRow(1); return true; }
    if (key === "k") { moveRow(-1); return true; }
    var row = currentRow();
    if (key === "x" && row) {
      var box = row.querySelector("input.row-check");
      box.checked = !box.checked;
      return true;
    }
    if ((key === "o" || key === "Enter") && row) {
      window.location.href = row.querySelector("td.id a").href;
      return true;
    }
    if (key === "m") return batch("review");
    if (key === "a") return batch("approve");
    return false;
  }

  // --- package page -------------------------------------------------------------------
  function follow(selector) {
    var link = document.querySelector(selector);
    if (!link) return false;
    window.location.href = link.href;
    return true;
  }

  function reject() {
    var note = document.getElementById("gate-note");
    if (note && !note.value.trim()) {
      note.focus();
      note.setAttribute("placeholder", "Say why, then press Ctrl+Enter (or Reject)");
      return true;
    }
    return press("#gate-panel button[data-shortcut=reject]");
  }

  function edit() {
    var target = document.querySelector("[data-shortcut=edit]");
    if (!target) return false;
    if (target.href) window.location.href = target.href;
    else target.click();
    return true;
  }

  function onPackage(key) {
    if (key === "j") return follow("a[data-shortcut=next]");
    if (key === "k") return follow("a[data-shortcut=previous]");
    if (key === "a") return press("#gate-panel button[data-shortcut=approve]");
    if (key === "m") return press("#gate-panel button[data-shortcut=review]");
    if (key === "r") return reject();
    if (key === "e") return edit();
    return false;
  }

  function rejectFromNote(event) {
    // Ctrl+Enter in the reject note (after "r" put the focus there): reject with the note.
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.altKey ||
        event.shiftKey || !event.target || event.target.id !== "gate-note") return false;
    if (!event.target.value.trim()) return false;
    return press("#gate-panel button[data-shortcut=reject]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) return;
    if (rejectFromNote(event)) { event.preventDefault(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || ownKeys(event.target)) return;
    var key = event.key;
    if (event.shiftKey && key !== "?") return; // Shift is only for "?"
    if (key === "?") { toggleHelp(); event.preventDefault(); return; }
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) return;
    var handled = document.getElementById("board-table") ? onBoard(key) : onPackage(key);
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-shortcut=help]");
    if (button) toggleHelp();
  });

  // Batch selection survives the board's refresh after "mark reviewed", so the same
  // selection can be approved next: remember the ticked ids across the htmx swap.
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "board-table") {
      kept = Array.prototype.map.call(
        document.querySelectorAll("input.row-check:checked"), function (b) { return b.value; });
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!kept) return;
    kept.forEach(function (id) {
      var box = document.querySelector('input.row-check[value="' + id + '"]');
      if (box) box.checked = true;
    });
    kept = null;
  });

  // Copy a row's snippet (the board's "copy" buttons) to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      button.textContent = "Copied";
    });
  });
})();
