/*
 * gridmap editor: what it draws on the map. Part of the editor's scripts (see main.js):
 * window.gridmapEditorModules.render = {install(ed)}, which gives the editor
 *  - the grids' and buildings' colours and styles (ed.gridColour, gridStyle, buildingStyle, restyle);
 *  - their tooltips (text only) and handlers (ed.bindGrid, bindBuilding, takeOverLayers: folium's
 *    layers get these styles and handlers, for what is there and what a reload adds);
 *  - ed.drawGrids(fc), updateBuildings(fc), drawLabels() and problemLayer(problem).
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});
  var el = C.el;
  var grouped = C.grouped;

  function install(ed) {
    var S = ed.S;
    var layers = ed.layers;
    var T = M.text;
    var gridNumber = T.gridNumber;
    var signed = T.signed;
    var KIND_LABELS = T.KIND_LABELS;

    /* ---------- colours and styles ---------- */

    var CANDIDATE_OK = "#2e9e44";
    var CANDIDATE_NO = "#a3a3a3";

    function gridColour(code) {
      var s = String(code || "");
      var n = /^\d{15}$/.test(s) ? Number(s.slice(-3)) - 1 : 0;
      if (!/^\d{15}$/.test(s)) for (var i = 0; i < s.length; i++) n = (n * 31 + s.charCodeAt(i)) % 9973;
      return ed.palette[((n % ed.palette.length) + ed.palette.length) % ed.palette.length];
    }

    function gridFill(code) {
      var m = ed.metricsOf(code);
      if (!m) return "#e0e0e0";
      return ed.classColours[ed.devClass(m.households_deviation, ed.bands.households)] || "#e0e0e0";
    }

    function gridStyle(feature) {
      var code = feature && feature.properties ? feature.properties.code : null;
      var style = { fillColor: gridFill(code), fillOpacity: 0.6, color: "#3c3c3c", weight: 1.4, opacity: 0.95,
                    dashArray: null };
      if (code && code === S.selected) {
        style.color = "#0b5cad";
        style.weight = 4;
        style.dashArray = S.mode === "merge" ? "8 5" : null;
      }
      if (code && code === S.target && S.mode === "paint") {
        style.color = "#111111";
        style.weight = 4;
      }
      var cand = ed.candidateOf ? ed.candidateOf(code) : null;
      if (cand) {
        // before a move: green, both grids stay in band and whole; grey, not (editor.css names the colours)
        style.fillColor = cand.ok ? CANDIDATE_OK : CANDIDATE_NO;
        style.fillOpacity = cand.ok ? 0.7 : 0.55;
        style.color = cand.ok ? "#14532d" : "#5f5f5f";
        style.weight = cand.ok ? 3.5 : 1.6;
        style.dashArray = cand.ok ? null : "4 4";
      }
      return style;
    }

    function buildingStyle(feature) {
      var p = (feature && feature.properties) || {};
      var style = { fillColor: gridColour(p.grid_code), fillOpacity: 0.9, color: "#262626", weight: 0.8, opacity: 1 };
      if (S.brushing && S.brushing.indexOf(p.code) >= 0) {
        style.color = "#000000";
        style.weight = 3;
        style.fillColor = S.target ? gridColour(S.target) : style.fillColor;
      } else if (S.diffOn && S.moved[p.code]) {
        style.color = "#7b2cbf";
        style.weight = 3.2;
      }
      if (!p.grid_code) style.fillColor = "#9e9e9e";
      if (S.mode === "swap" || (S.picked && S.picked.indexOf(p.code) >= 0)) {
        var hint = ed.swapHintOf ? ed.swapHintOf(p.code) : null;
        if (p.code === S.swapA || p.code === S.swapB || (S.picked && S.picked.indexOf(p.code) >= 0)) {
          style.color = "#0b5cad";
          style.weight = 4;
        } else if (hint) {
          style.color = hint.ok ? "#14532d" : "#7a7a7a";
          style.weight = hint.ok ? 4 : 1.5;
          style.fillColor = hint.ok ? CANDIDATE_OK : style.fillColor;
        }
      }
      return style;
    }

    function restyle() {
      layers.grids.eachLayer(function (layer) { layer.setStyle(gridStyle(layer.feature)); });
      layers.buildings.eachLayer(function (layer) { layer.setStyle(buildingStyle(layer.feature)); });
    }

    /* ---------- tooltips ---------- */

    function rows(dl, items) {
      items.forEach(function (item) {
        if (!item) return;
        dl.appendChild(el("dt", null, item[0]));
        dl.appendChild(el("dd", item[2] || null, item[1]));
      });
    }

    function gridTooltip(code) {
      var p = S.grids[code] || {};
      var m = ed.metricsOf(code) || {};
      var box = el("div", "gm-ed-tip");
      box.appendChild(el("strong", null, (p.name || code) + " · " + gridNumber(code)));
      box.appendChild(el("div", "gm-ed-tip-code", code));
      var dl = el("dl");
      var hh = ed.bands.households;
      var pop = ed.bands.population;
      rows(dl, [
        ["户数 Households", grouped(m.households) + " (" + hh[0] + "–" + hh[1] + ", " +
          signed(m.households_deviation) + ")", m.households_deviation ? "gm-ed-off" : null],
        ["人口 Population", grouped(m.population) + " (" + pop[0] + "–" + pop[1] + ", " +
          signed(m.population_deviation) + ")", m.population_deviation ? "gm-ed-off" : null],
        ["楼栋 / 单元 Bldg / units", grouped(m.buildings) + " / " + grouped(m.units)],
        C.isNum(m.area_m2) ? ["面积 Area", grouped(m.area_m2) + " m²"] : null,
        C.isNum(m.polsby_popper) ? ["紧凑度 Polsby–Popper", m.polsby_popper.toFixed(2)] : null,
        m.contiguous === false ? ["连通 Contiguous", "否 no (" + (m.parts || "?") + " 块 parts)", "gm-ed-off"] : null,
        p.grid_member ? ["网格员 Grid member", p.grid_member] : null,
      ]);
      box.appendChild(dl);
      var cand = ed.candidateOf ? ed.candidateOf(code) : null;
      if (cand) box.appendChild(el("div", cand.ok ? "gm-ed-tip-ok" : "gm-ed-tip-no",
        "移入候选 Move here: " + ed.reasonsText(cand)));
      S.problems.forEach(function (problem) {
        if ((problem.grids || []).indexOf(code) >= 0) {
          box.appendChild(el("div", "gm-ed-tip-problem gm-ed-" + problem.severity,
            (KIND_LABELS[problem.kind] || problem.kind) + ": " + C.messageText(problem)));
        }
      });
      return box;
    }

    function buildingTooltip(code) {
      var p = S.buildings[code] || {};
      var box = el("div", "gm-ed-tip");
      box.appendChild(el("strong", null, p.address || p.name || code));
      var dl = el("dl");
      rows(dl, [
        ["户数 / 人口 HH / pop.", grouped(p.households) + " / " + grouped(p.population)],
        ["网格 Grid", p.grid_code ? gridNumber(p.grid_code) + " " + ((S.grids[p.grid_code] || {}).name || "") : "–"],
        S.diffOn && S.moved[code] ? ["移动 Moved", gridNumber(S.moved[code].from) + " → " +
          gridNumber(S.moved[code].to), "gm-ed-moved"] : null,
      ]);
      box.appendChild(dl);
      var hint = ed.swapHintOf ? ed.swapHintOf(code) : null;
      if (hint) box.appendChild(el("div", hint.ok ? "gm-ed-tip-ok" : "gm-ed-tip-no", "与 A 交换 Swap with A: " +
        ed.reasonsText(hint)));
      return box;
    }

    /* ---------- grids and buildings on the map ---------- */

    function bindGrid(feature, layer) {
      var code = feature.properties.code;
      S.gridLayers[code] = layer;
      layer.bindTooltip(function () { return gridTooltip(code); }, { sticky: true, className: "gm-ed-tooltip" });
      layer.on("click", ed.onGridClick);
      layer.on("contextmenu", ed.onGridContext);
    }

    function bindBuilding(feature, layer) {
      var code = feature.properties.code;
      S.buildingLayers[code] = layer;
      layer.bindTooltip(function () { return buildingTooltip(code); },
        { sticky: true, className: "gm-ed-tooltip", direction: "top", offset: [0, -8] });
      layer.on("mousedown", ed.onBuildingDown);
      layer.on("mouseover", ed.onBuildingOver);
      layer.on("contextmenu", ed.onBuildingContext);
    }

    // take over folium's layers: our styles and handlers, for what is there and what reload() adds
    function takeOverLayers() {
      layers.grids.options.style = gridStyle;
      layers.grids.options.onEachFeature = bindGrid;
      layers.grids.eachLayer(function (layer) {
        S.grids[layer.feature.properties.code] = layer.feature.properties;
        bindGrid(layer.feature, layer);
      });
      layers.buildings.options.style = buildingStyle;
      layers.buildings.eachLayer(function (layer) {
        S.buildings[layer.feature.properties.code] = layer.feature.properties;
        bindBuilding(layer.feature, layer);
      });
    }

    function drawGrids(fc) {
      ed.stopEditing();
      S.grids = {};
      S.gridLayers = {};
      (fc.features || []).forEach(function (f) {
        if (f.properties && f.properties.code) S.grids[f.properties.code] = f.properties;
      });
      layers.grids.clearLayers();
      layers.grids.addData(fc);
      if (S.target && !S.grids[S.target]) ed.setTarget(null);
      if (S.selected && !S.grids[S.selected]) S.selected = null;
    }

    function updateBuildings(fc) {
      var byCode = {};
      (fc.features || []).forEach(function (f) { if (f.properties) byCode[f.properties.code] = f.properties; });
      layers.buildings.eachLayer(function (layer) {
        var code = layer.feature.properties.code;
        if (byCode[code]) {
          layer.feature.properties = byCode[code];
          S.buildings[code] = byCode[code];
          if (layer.isTooltipOpen && layer.isTooltipOpen()) layer.setTooltipContent(buildingTooltip(code));
        }
      });
    }

    function drawLabels() {
      layers.labels.clearLayers();
      Object.keys(S.gridLayers).forEach(function (code) {
        var layer = S.gridLayers[code];
        var m = ed.metricsOf(code) || {};
        var centre;
        try {
          centre = layer.getCenter();
        } catch (e) {
          return;
        }
        var html = el("span", "gm-ed-label-text");
        html.appendChild(el("b", null, C.gridLabel(code)));
        html.appendChild(el("small", null, grouped(m.households) + "户"));
        layers.labels.addLayer(L.marker(centre, {
          icon: L.divIcon({ className: "gm-ed-label", html: html, iconSize: [0, 0] }),
          interactive: false, keyboard: false, pane: "gm-ed-labels", pmIgnore: true, snapIgnore: true,
        }));
      });
    }

    /* ---------- problems ---------- */

    function problemLayer(problem) {
      var error = problem.severity === "error";
      var layer = L.geoJSON(problem.geometry, {
        pane: "gm-ed-problems",
        interactive: error,
        pmIgnore: true,
        snapIgnore: true,
        style: error
          ? { color: "#c1121f", weight: 2.5, opacity: 1, fillColor: "#c1121f", fillOpacity: 1,
              className: "gm-ed-problem gm-ed-problem-error" }
          : { color: "#e08214", weight: 3, opacity: 0.95, dashArray: "7 5", fill: false,
              className: "gm-ed-problem gm-ed-problem-warning" },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, { radius: 7, pane: "gm-ed-problems", pmIgnore: true, snapIgnore: true });
        },
      });
      if (error) {
        layer.bindTooltip(function () {
          var box = el("div", "gm-ed-tip");
          box.appendChild(el("strong", "gm-ed-error", KIND_LABELS[problem.kind] || problem.kind));
          box.appendChild(el("div", null, C.messageText(problem)));
          if ((problem.grids || []).length) {
            box.appendChild(el("div", "gm-ed-tip-code", "网格 Grids: " + problem.grids.map(gridNumber).join(", ")));
          }
          if ((problem.buildings || []).length) {
            box.appendChild(el("div", "gm-ed-tip-code", "楼栋 Buildings: " + problem.buildings.join(", ")));
          }
          return box;
        }, { sticky: true, className: "gm-ed-tooltip" });
      }
      return layer;
    }

    ed.gridColour = gridColour;
    ed.gridStyle = gridStyle;
    ed.buildingStyle = buildingStyle;
    ed.restyle = restyle;
    ed.bindGrid = bindGrid;
    ed.bindBuilding = bindBuilding;
    ed.takeOverLayers = takeOverLayers;
    ed.drawGrids = drawGrids;
    ed.updateBuildings = updateBuildings;
    ed.drawLabels = drawLabels;
    ed.problemLayer = problemLayer;
  }

  M.render = { install: install };
})();
