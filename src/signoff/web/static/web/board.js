// Board: "select all" for the batch checkboxes. Event delegation, so it survives htmx swaps.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("#select-all")) return;
  document.querySelectorAll("input.row-check").forEach(function (row) {
    row.checked = box.checked;
  });
});
