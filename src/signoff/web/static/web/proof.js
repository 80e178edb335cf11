// Print proof: the image at true print size (CSS mm scaled by the screen's real ppi, which
// the person sets once; kept in localStorage), 100 % images at one image pixel per screen
// pixel, drag to pan, and a click on the fitted image to look there at 100 %.
(function () {
  var KEY = "signoff.screenPpi";
  var dpr = window.devicePixelRatio || 1;
  var nominal = Math.round(96 * dpr); // what CSS assumes: 96 CSS px per inch

  function saved() {
    try {
      var value = parseFloat(window.localStorage.getItem(KEY));
      return value >= 60 && value <= 600 ? value : nominal;
    } catch (e) {
      return nominal; // storage refused (private mode): uncalibrated
    }
  }

  function calibrate(ppi, keep) {
    // A CSS mm is 96/25.4 CSS px; the screen really shows ppi/dpr CSS px per inch.
    var factor = ppi / nominal;
    document.querySelectorAll("[data-mm]").forEach(function (el) {
      var mm = el.getAttribute("data-mm").split(" ").map(parseFloat);
      el.style.width = mm[0] * factor + "mm";
      if (mm.length > 1) el.style.height = mm[1] * factor + "mm";
    });
    document.querySelectorAll("#screen-ppi, #screen-ppi-value").forEach(function (input) {
      input.value = Math.round(ppi);
    });
    if (keep) {
      try {
        window.localStorage.setItem(KEY, String(ppi));
      } catch (e) {}
    }
  }

  function pan(box) {
    var start = null;
    box.addEventListener("dragstart", function (event) {
      event.preventDefault(); // the image's own drag would take the pointer
    });
    box.addEventListener("pointerdown", function (event) {
      start = { x: event.clientX, y: event.clientY, left: box.scrollLeft, top: box.scrollTop };
      box.setPointerCapture(event.pointerId);
      box.classList.add("dragging");
    });
    box.addEventListener("pointermove", function (event) {
      if (!start) return;
      box.scrollLeft = start.left - (event.clientX - start.x);
      box.scrollTop = start.top - (event.clientY - start.y);
    });
    ["pointerup", "pointercancel"].forEach(function (name) {
      box.addEventListener(name, function () {
        start = null;
        box.classList.remove("dragging");
      });
    });
  }

  function centre(box, fx, fy) {
    var img = box.querySelector("img");
    box.scrollLeft = fx * img.offsetWidth - box.clientWidth / 2;
    box.scrollTop = fy * img.offsetHeight - box.clientHeight / 2;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("img[data-actual]").forEach(function (img) {
      img.style.width = img.getAttribute("width") / dpr + "px";
    });
    calibrate(saved(), false);
    document.querySelectorAll("#screen-ppi, #screen-ppi-value").forEach(function (input) {
      input.addEventListener("input", function () {
        var value = parseFloat(input.value);
        if (value >= 60 && value <= 600) calibrate(value, true);
      });
    });
    document.querySelectorAll("[data-reset]").forEach(function (button) {
      button.addEventListener("click", function () {
        try {
          window.localStorage.removeItem(KEY);
        } catch (e) {}
        calibrate(nominal, false);
      });
    });
    document.querySelectorAll(".pannable").forEach(pan);
    var frame = document.querySelector("[data-jump]");
    var loupe = document.getElementById("pixel-loupe");
    if (frame && loupe) {
      frame.addEventListener("click", function (event) {
        var rect = frame.getBoundingClientRect();
        var fx = (event.clientX - rect.left) / rect.width;
        var fy = (event.clientY - rect.top) / rect.height;
        loupe.open = true;
        var box = loupe.querySelector(".pannable");
        var img = box.querySelector("img");
        // Scroll first: a lazy image only loads once it is near the viewport.
        loupe.scrollIntoView({ block: "center" });
        var here = function () {
          centre(box, fx, fy);
        };
        if (img.complete && img.naturalWidth) here();
        else img.addEventListener("load", here, { once: true });
      });
    }
  });
})();
