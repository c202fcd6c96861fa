// Progressive enhancements for the report site; every page is complete without them.
// - tables with class "sortable": click a column heading to sort by it (numbers: largest first)
// - tables with class "filterable": a box that hides rows not containing the typed text
// - the compare page: two menus that narrow its table to the packages picked (kept in the URL hash)
"use strict";

(function () {
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    if (cell.hasAttribute("data-value")) {
      var raw = cell.getAttribute("data-value");
      return raw === "" ? null : Number(raw);
    }
    return cell.textContent.trim().toLowerCase();
  }

  function compare(a, b) {
    if (a === b) return 0;
    if (a === null) return 1; // empty cells last, whichever direction
    if (b === null) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true }); // 3.8 before 3.10
  }

  function makeSortable(table) {
    var headings = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headings, function (heading, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (heading.firstChild) button.appendChild(heading.firstChild);
      heading.appendChild(button);
      button.addEventListener("click", function () {
        // Counts and rates first sort largest first (what a reader looks for); text A to Z.
        var current = heading.getAttribute("aria-sort");
        var ascending = current ? current !== "ascending" : !heading.classList.contains("num");
        Array.prototype.forEach.call(headings, function (other) {
          other.removeAttribute("aria-sort");
        });
        heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (x, y) {
          var order = compare(cellValue(x, index), cellValue(y, index));
          if (cellValue(x, index) === null || cellValue(y, index) === null) return order;
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function makeFilterable(table) {
    var wrap = table.closest(".table-wrap") || table;
    var label = document.createElement("label");
    label.className = "table-filter";
    label.textContent = "Filter " + (table.caption ? table.caption.textContent.toLowerCase() : "rows") + ": ";
    var input = document.createElement("input");
    input.type = "search";
    input.setAttribute("aria-controls", table.id);
    var status = document.createElement("span");
    status.className = "filter-status";
    status.setAttribute("aria-live", "polite");
    label.appendChild(input);
    label.appendChild(status);
    wrap.parentNode.insertBefore(label, wrap);
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      var rows = table.tBodies[0].rows;
      var shown = 0;
      Array.prototype.forEach.call(rows, function (row) {
        var match = row.textContent.toLowerCase().indexOf(query) !== -1;
        row.hidden = !match;
        if (match) shown += 1;
      });
      status.textContent = query ? " " + shown + " of " + rows.length + " rows" : "";
    });
  }

  // The picks live in the URL hash (#first=make&second=Git%20(git)), so a comparison can be
  // shared or bookmarked.
  function setUpCompare(form) {
    var table = document.getElementById("compare");
    if (!table) return;
    var menus = Array.prototype.slice.call(form.querySelectorAll("select[data-compare]"));
    function update() {
      var picked = menus.map(function (menu) { return menu.value; })
        .filter(function (value) { return value !== ""; });
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = picked.length > 0 && picked.indexOf(row.getAttribute("data-name")) === -1;
      });
    }
    function readHash() {
      var params = new URLSearchParams(window.location.hash.slice(1));
      menus.forEach(function (menu) {
        var wanted = params.get(menu.name) || "";
        var known = Array.prototype.some.call(menu.options, function (option) {
          return option.value === wanted;
        });
        menu.value = known ? wanted : "";
      });
      update();
    }
    function writeHash() {
      var params = new URLSearchParams();
      menus.forEach(function (menu) {
        if (menu.value) params.set(menu.name, menu.value);
      });
      var query = params.toString();
      var url = window.location.pathname + window.location.search + (query ? "#" + query : "");
      history.replaceState(null, "", url);
      update();
    }
    menus.forEach(function (menu) {
      menu.addEventListener("change", writeHash);
    });
    window.addEventListener("hashchange", readHash);
    readHash();
    form.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    document.querySelectorAll("table.filterable").forEach(makeFilterable);
    var form = document.getElementById("compare-form");
    if (form) setUpCompare(form);
  });
})();
