/*
 * gridmap editor: the grids' metrics and the metrics table (#gm-ed-metrics) with its community filter.
 * Part of the editor's scripts (see main.js): window.gridmapEditorModules.table = {install(ed)}, which
 * gives the editor
 *  - ed.metricsOf(code): a grid's metrics, the validation's, else computed from the grid's own counts;
 *    ed.devClass(deviation, band): its deviation class (ok, under, under-far, over, over-far);
 *  - ed.fillCommunities(), fillTable() (and the legend's counts per class), scrollToRow(code),
 *    resetCommunity(); a click on a row picks the paint target, or zooms to the grid and picks it (on a phone
 *    the table's sheet folds first, so the grid shows);
 *  - the keyboard (issue 15, item 6): the rows are one tab stop (the last one focused has tabindex 0, the others
 *    -1), arrows move between them, Enter or Space does what a click does; the building picker under the table
 *    (#gm-ed-building: the buildings of the grid last picked in the table, else all) and its button: in swap mode
 *    building A (hints.js lists the swaps as buttons), else the move's candidates ("Move to" buttons); the focus
 *    goes to the first of those buttons.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});
  var el = C.el;
  var grouped = C.grouped;
  var isNum = C.isNum;

  function install(ed) {
    var S = ed.S;
    var gridNumber = M.text.gridNumber;
    var signed = M.text.signed;

    var table = document.getElementById("gm-ed-metrics");
    var tbody = table.querySelector("tbody");
    var communitySelect = document.getElementById("gm-ed-community");
    var legend = document.querySelector(".gm-ed-legend");
    var buildingSelect = document.getElementById("gm-ed-building");
    var buildingPick = document.getElementById("gm-ed-building-pick");
    var hintsBox = document.getElementById("gm-ed-hints");
    S.rowFocus = null; // the row that is the table's tab stop
    S.rowGrid = null; // the grid last picked in the table: the building picker lists its buildings

    /* ---------- metrics ---------- */

    function devClass(dev, band) {
      if (!isNum(dev) || dev === 0) return "ok";
      var half = (band[1] - band[0]) / 2 || 1;
      if (dev < 0) return -dev >= half ? "under-far" : "under";
      return dev >= half ? "over-far" : "over";
    }

    function deviation(value, band) {
      if (!isNum(value)) return null;
      return value - Math.min(Math.max(value, band[0]), band[1]);
    }

    // the metrics of a grid: validation's, else computed from the grid's own counts
    function metricsOf(code) {
      var m = S.metrics[code];
      if (m) return m;
      var p = S.grids[code];
      if (!p) return null;
      var hd = deviation(p.households, ed.bands.households);
      var pd = deviation(p.population, ed.bands.population);
      return {
        code: code, community_code: p.community_code, households: p.households, population: p.population,
        buildings: p.buildings, units: p.units, area_m2: null, polsby_popper: null, contiguous: null,
        households_deviation: hd, population_deviation: pd,
        band: hd < 0 || pd < 0 ? "under" : hd > 0 || pd > 0 ? "over" : "ok", estimated: true,
      };
    }

    /* ---------- the table ---------- */

    function fillCommunities() {
      var seen = {};
      Object.keys(S.grids).forEach(function (code) {
        var p = S.grids[code];
        if (p.community_code && !seen[p.community_code]) seen[p.community_code] = p.community_name || p.community_code;
      });
      var keep = communitySelect.value;
      while (communitySelect.options.length > 1) communitySelect.remove(1);
      Object.keys(seen).sort().forEach(function (c) {
        var option = el("option", null, seen[c]);
        option.value = c;
        communitySelect.appendChild(option);
      });
      communitySelect.value = seen[keep] ? keep : "";
      S.community = communitySelect.value;
    }

    function fillTable() {
      var active = document.activeElement;
      var refocus = active && active.parentNode === tbody ? active.getAttribute("data-code") : null;
      C.clear(tbody);
      var counts = {};
      var codes = Object.keys(S.grids).sort();
      codes.forEach(function (code) {
        var m = metricsOf(code);
        if (!m) return;
        var cls = devClass(m.households_deviation, ed.bands.households);
        counts[cls] = (counts[cls] || 0) + 1;
        var community = (S.grids[code] || {}).community_code;
        if (S.community && community !== S.community) return;
        var tr = el("tr", "gm-ed-row");
        tr.setAttribute("data-code", code);
        tr.setAttribute("data-band", m.band || "ok");
        if (m.band && m.band !== "ok") tr.classList.add("gm-ed-row-" + m.band);
        if (code === S.target) tr.classList.add("gm-ed-row-target");
        if (code === S.selected) tr.classList.add("gm-ed-row-selected");
        var name = el("td", "gm-ed-col-code");
        var swatch = el("span", "gm-ed-dot");
        swatch.style.background = ed.gridColour(code);
        name.appendChild(swatch);
        name.appendChild(el("span", null, gridNumber(code)));
        name.title = code + " " + ((S.grids[code] || {}).name || "");
        tr.appendChild(name);
        var hh = el("td", "gm-ed-num", grouped(m.households));
        hh.setAttribute("data-col", "households");
        if (m.households_deviation) hh.classList.add(m.households_deviation < 0 ? "gm-ed-under" : "gm-ed-over");
        tr.appendChild(hh);
        var pop = el("td", "gm-ed-num", grouped(m.population));
        pop.setAttribute("data-col", "population");
        if (m.population_deviation) pop.classList.add(m.population_deviation < 0 ? "gm-ed-under" : "gm-ed-over");
        tr.appendChild(pop);
        [["buildings", grouped(m.buildings)], ["units", grouped(m.units)], ["area_m2", grouped(m.area_m2)],
         ["polsby_popper", isNum(m.polsby_popper) ? m.polsby_popper.toFixed(2) : "–"]].forEach(function (c) {
          var td = el("td", "gm-ed-num", c[1]);
          td.setAttribute("data-col", c[0]);
          tr.appendChild(td);
        });
        var contiguous = el("td", "gm-ed-center",
          m.contiguous === true ? "是 yes" : m.contiguous === false ? "否 no" : "–");
        contiguous.setAttribute("data-col", "contiguous");
        if (m.contiguous === false) contiguous.classList.add("gm-ed-bad");
        tr.appendChild(contiguous);
        var dev = el("td", "gm-ed-num gm-ed-dev");
        dev.setAttribute("data-col", "deviation");
        var parts = [];
        if (m.households_deviation) parts.push("户 " + signed(m.households_deviation));
        if (m.population_deviation) parts.push("人 " + signed(m.population_deviation));
        dev.textContent = parts.length ? parts.join(" ") : "✓";
        dev.style.background = ed.classColours[cls] || "";
        if (cls === "under-far" || cls === "over-far") dev.classList.add("gm-ed-dev-far");
        tr.appendChild(dev);
        tr.tabIndex = -1;
        tbody.appendChild(tr);
      });
      C.legendCounts(legend, function (key) { return counts[key] || 0; });
      var stop = rowOf(S.rowFocus) || rowOf(S.target) || rowOf(S.selected) || tbody.querySelector("tr[data-code]");
      if (stop) stop.tabIndex = 0;
      if (refocus && rowOf(refocus)) rowOf(refocus).focus({ preventScroll: true });
      fillBuildings();
    }

    function rowOf(code) {
      return code ? tbody.querySelector('tr[data-code="' + String(code).replace(/"/g, "") + '"]') : null;
    }

    // the building picker: the buildings of the grid last picked in the table (all when none), by address
    function fillBuildings() {
      if (!buildingSelect) return;
      var keep = buildingSelect.value;
      C.clear(buildingSelect);
      var codes = Object.keys(S.buildings).filter(function (code) {
        return !S.rowGrid || (S.buildings[code] || {}).grid_code === S.rowGrid;
      });
      codes.sort(function (a, b) {
        var pa = S.buildings[a] || {}, pb = S.buildings[b] || {};
        return String(pa.grid_code || "").localeCompare(String(pb.grid_code || "")) ||
          String(pa.address || a).localeCompare(String(pb.address || b));
      });
      codes.forEach(function (code) {
        var p = S.buildings[code] || {};
        var option = el("option", null, (p.address || code) + " (" + gridNumber(p.grid_code || "") + ")");
        option.value = code;
        buildingSelect.appendChild(option);
      });
      if (keep && S.buildings[keep] && codes.indexOf(keep) >= 0) buildingSelect.value = keep;
      buildingPick.disabled = !codes.length || !ed.canWrite();
    }

    function firstButton() {
      var b = hintsBox.querySelector("button.gm-ed-primary") || hintsBox.querySelector("button");
      if (b) b.focus();
    }

    function pickFromList() {
      var code = buildingSelect.value;
      if (!code || !ed.canWrite()) return;
      var done = S.mode === "swap" ? ed.onSwapPick(code) : ed.pickBuilding(code);
      Promise.resolve(done).then(firstButton);
    }
    ed.focusBuildingPicker = function () {
      if (buildingPick && !buildingPick.disabled) buildingPick.focus();
    };

    function scrollToRow(code) {
      var row = tbody.querySelector('tr[data-code="' + String(code).replace(/"/g, "") + '"]');
      if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
    }

    // all communities again (a target picked outside the one shown)
    function resetCommunity() {
      communitySelect.value = "";
      S.community = "";
    }

    function pickRow(code) {
      S.rowGrid = code;
      S.rowFocus = code;
      if (S.mode === "paint") {
        ed.setTarget(code);
      } else {
        var layer = S.gridLayers[code];
        ed.foldSheet(); // a phone: the sheet out of the way of the grid
        if (layer) ed.fitTo(layer.getBounds(), 18);
        if (S.mode === "boundary" || S.mode === "split" || S.mode === "merge") ed.onGridPicked(code);
        fillBuildings();
      }
    }

    tbody.addEventListener("click", function (e) {
      var tr = e.target.closest ? e.target.closest("tr[data-code]") : null;
      if (tr) pickRow(tr.getAttribute("data-code"));
    });
    tbody.addEventListener("keydown", function (e) {
      var tr = e.target;
      if (!tr || tr.parentNode !== tbody || e.altKey || e.ctrlKey || e.metaKey) return;
      var next = null;
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pickRow(tr.getAttribute("data-code"));
        return;
      }
      if (e.key === "ArrowDown") next = tr.nextElementSibling;
      else if (e.key === "ArrowUp") next = tr.previousElementSibling;
      else if (e.key === "Home") next = tbody.firstElementChild;
      else if (e.key === "End") next = tbody.lastElementChild;
      else return;
      e.preventDefault();
      if (next) next.focus();
    });
    // the row with the focus is the table's one tab stop
    tbody.addEventListener("focusin", function (e) {
      var tr = e.target;
      if (!tr || tr.parentNode !== tbody) return;
      S.rowFocus = tr.getAttribute("data-code");
      Array.prototype.forEach.call(tbody.children, function (row) { row.tabIndex = row === tr ? 0 : -1; });
    });
    if (buildingPick) buildingPick.addEventListener("click", pickFromList);
    communitySelect.addEventListener("change", function () {
      S.community = communitySelect.value;
      fillTable();
      if (S.community) {
        var bounds = L.latLngBounds([]);
        Object.keys(S.gridLayers).forEach(function (code) {
          if ((S.grids[code] || {}).community_code === S.community) bounds.extend(S.gridLayers[code].getBounds());
        });
        if (bounds.isValid()) ed.fitTo(bounds, 18);
      }
    });

    ed.devClass = devClass;
    ed.metricsOf = metricsOf;
    ed.fillCommunities = fillCommunities;
    ed.fillTable = fillTable;
    ed.scrollToRow = scrollToRow;
    ed.resetCommunity = resetCommunity;
  }

  M.table = { install: install };
})();
