// Accessibility helpers for every screen (loaded by base.html; a static file, so the CSP holds).
//
// 1. Focus after an htmx swap. When htmx replaces the part that holds the keyboard focus, the
//    focused element is gone and focus falls back to <body>: a keyboard or screen-reader user
//    is thrown to the top of the page. htmx itself only restores focus to an element with the
//    same id. Here, when focus was lost inside the swapped part:
//      - after a form was sent, focus goes to the outcome the new part announces
//        ([role=alert] or [role=status]), so it is read out and the next Tab continues there;
//      - otherwise to the same control in the new part (same name and value, link target or
//        label, within the same dashboard widget), when it is still enabled;
//      - otherwise to the swapped part itself (made focusable with tabindex=-1).
// 2. Tables on a phone. On a narrow screen the board's rows are shown as cards and other
//    tables one row a block (signoff.css); each cell gets its column's heading as data-label
//    so a row still says what each value is.
(function () {
  "use strict";

  var lost = null; // what had focus inside the part being swapped, described to find it again

  function describe(el, target) {
    var widget = el.closest("[data-widget]");
    return {
      tag: el.tagName,
      name: el.getAttribute("name"),
      value: el.getAttribute("value"),
      href: el.getAttribute("href"),
      label: el.getAttribute("aria-label"),
      widget: widget ? widget.getAttribute("data-widget") : null,
      targetId: target.id || null,
    };
  }

  function usable(el) {
    return el && !el.disabled && el.getClientRects().length > 0;
  }

  function findAgain(region, was) {
    var scope = region;
    if (was.widget) {
      scope = region.querySelector('[data-widget="' + CSS.escape(was.widget) + '"]') || region;
    }
    var candidates = scope.querySelectorAll(was.tag);
    for (var i = 0; i < candidates.length; i++) {
      var el = candidates[i];
      var same =
        el.getAttribute("name") === was.name &&
        el.getAttribute("value") === was.value &&
        el.getAttribute("href") === was.href &&
        el.getAttribute("aria-label") === was.label;
      if (same && usable(el)) return el;
    }
    return scope !== region ? scope : null; // the widget moved but its control is disabled
  }

  function focusOn(el) {
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus({ preventScroll: false });
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    lost = null;
    if (active && active !== document.body && target && target.contains(active)) {
      lost = describe(active, target);
      lost.sent = (event.detail.requestConfig || {}).verb === "post";
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    labelCells(document);
    if (!lost) return;
    var was = lost;
    lost = null;
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return; // kept
    var region = (was.targetId && document.getElementById(was.targetId)) || event.detail.target;
    if (!region || !document.contains(region)) return;
    var outcome = was.sent ? region.querySelector("[role=alert], [role=status]") : null;
    focusOn(outcome || findAgain(region, was) || region);
  });

  function labelCells(root) {
    root.querySelectorAll("table").forEach(function (table) {
      var head = table.querySelector("thead tr");
      if (!head) return;
      var heads = [];
      Array.prototype.forEach.call(head.children, function (th) {
        for (var n = 0; n < (th.colSpan || 1); n++) heads.push(th.textContent.trim());
      });
      table.querySelectorAll("tbody tr, tfoot tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (heads[i] && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", heads[i]);
          }
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      labelCells(document);
    });
  } else {
    labelCells(document);
  }
})();
