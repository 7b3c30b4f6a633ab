// Sortable tables (offline, no library): each button in a header sorts its column by the cells' data-sort values.
(function () {
  "use strict";
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var buttons = table.querySelectorAll("th button[data-col]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () {
        var column = Number(button.getAttribute("data-col"));
        var header = button.parentNode;
        var ascending = header.getAttribute("aria-sort") === "descending";
        Array.prototype.forEach.call(table.querySelectorAll("th[aria-sort]"), function (h) {
          h.removeAttribute("aria-sort");
        });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = parseFloat(a.cells[column].getAttribute("data-sort"));
          var y = parseFloat(b.cells[column].getAttribute("data-sort"));
          return ascending ? x - y : y - x;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
