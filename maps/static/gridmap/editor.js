/*
 * gridmap planners' editor (/maps/editor?plan=ID), and the editor's start page (/maps/editor).
 * Built by maps/editor.py; loaded with <script defer> (after common.js, window.gridmapCommon), so it runs
 * after leaflet.js, Leaflet-Geoman and folium's inline script have made the map, the grids and buildings
 * (L.GeoJSON, options.gmLayer "grids", "buildings", "communities") and the empty groups this script fills
 * ("problems", "diff", "labels"); gridmapCommon.findPage finds them.
 * Settings are data-* attributes of the panel's root #gm-editor (API base, plan, bands, colours).
 *
 * Every write goes to the planners' API with If-Match: "<version the page holds>", one at a time:
 *   POST /v1/plans/{id}/assign {building | buildings, grid}  paint: click a building, or brush several
 *   PUT  /v1/plans/{id}/grids/{code} {geometry, neighbours: "adjust"}   boundary: Geoman vertex edits
 *   POST /v1/plans/{id}/split {grid, line}                split: a line drawn with Geoman
 *   POST /v1/plans/{id}/merge {grids: [a, b]}             merge: two clicks
 *   POST /v1/plans/{id}/undo | /redo
 *   POST /v1/plans/{id}/publish {acknowledge_warnings}    409 warnings_not_acknowledged / plan_invalid
 * and after each the page reloads GET /v1/plans/{id}, /grids, /v1/buildings?plan=, /validation, /edits
 * (and /diff when the diff is shown) and redraws. 409 stale_version: the server's message is shown and
 * the page reloads. Everything from the API goes into the DOM with textContent, never as HTML.
 *
 * Test hook: window.gridmapEditor = {ready, busy, map, layers, state(), assign(building, grid),
 * publish({acknowledge}), undo(), redo(), split(grid, line), merge(a, b), reshape(grid, geometry),
 * setMode(mode), setTarget(code), diff(on), reload(), cleanGeometry(geometry)}; actions return a Promise of
 * {ok, status, code, message, body}.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var el = C.el;
  var PANEL_ID = "gm-editor";
  var PLANS_ID = "gm-editor-plans";
  var LAYERS = ["grids", "buildings", "communities", "problems", "diff", "labels"];
  var MODE_HINTS = {
    paint: "选目标网格（点表格一行，或 Alt/Ctrl/Shift 点击、右键点击地图），再点击或按住拖刷楼栋 " +
      "Pick a target grid (a table row, or Alt/Ctrl/Shift-click or right-click the map), then click or brush buildings",
    boundary: "点击网格，拖动其顶点（吸附到社区边界和相邻网格）；松开即保存，相邻网格随之调整 " +
      "Click a grid and drag its vertices (they snap to communities and neighbours); each drop saves, neighbours adjust",
    split: "点击要拆分的网格，再画一条穿过它的线，双击结束 Click the grid to split, then draw a line across it; " +
      "double-click ends it",
    merge: "依次点击两个相邻网格即合并（保留较小的编号） Click two neighbouring grids to merge them (the lower code stays)",
  };
  var KIND_LABELS = {
    invalid_geometry: "几何无效 invalid geometry",
    outside_community: "超出社区 outside its community",
    overlap: "重叠 overlap",
    gap: "缝隙 gap",
    building_split: "楼栋被分割 building split",
    non_contiguous: "不连通 not contiguous",
    households_band: "户数超出范围 households out of band",
    population_band: "人口超出范围 population out of band",
  };
  var OP_LABELS = {
    assign: "移楼 assign", reshape: "改边界 reshape", boundary: "改边界 boundary", split: "拆分 split",
    merge: "合并 merge", undo: "撤销 undo", redo: "重做 redo", import: "导入 import", publish: "发布 publish",
  };

  /* ---------- small helpers (text only) ---------- */

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function isNum(n) {
    return typeof n === "number" && isFinite(n);
  }

  function grouped(n, digits) {
    if (!isNum(n)) return "–";
    return Number(n).toLocaleString("en-US", { minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0 });
  }

  function signed(n) {
    if (!isNum(n)) return "–";
    if (n === 0) return "0";
    return (n > 0 ? "+" : "−") + grouped(Math.abs(n));
  }

  // 140214101003002 -> "3-002" (community 3 of the town, grid 002); other codes as they are
  function gridNumber(code) {
    var s = String(code);
    return /^\d{15}$/.test(s) ? Number(s.slice(9, 12)) + "-" + s.slice(-3) : s;
  }

  function errorText(err) {
    return String(err && err.message ? err.message : err);
  }

  // opts {params, body, version (sent as If-Match)} -> {ok, status, code, message, details, body};
  // never rejects (a network failure is status 0)
  function request(apiBase, method, path, opts) {
    opts = opts || {};
    var headers = {};
    if (opts.version !== undefined && opts.version !== null) headers["If-Match"] = '"' + opts.version + '"';
    return C.fetchJSON(apiBase, method, path, { params: opts.params, body: opts.body, headers: headers })
      .then(function (res) {
        var error = C.apiError(res);
        return {
          ok: res.ok,
          status: res.status,
          code: error ? error.code : null,
          message: error ? error.message || "" : res.ok ? "" : res.status + " " + res.text.slice(0, 200),
          details: error ? error.details || null : null,
          body: res.body,
        };
      }, function (err) {
      return { ok: false, status: 0, code: "network", message: "网络错误 network error: " + errorText(err),
               details: null, body: null };
    });
  }

  /* ---------- geometry clean-up before a PUT ---------- */

  // within 3e-7 degrees (about 3 cm): the API writes 7 decimals, so a sliver a few millimetres wide
  // comes out as two points 1e-7 apart
  function samePoint(a, b) {
    return Math.abs(a[0] - b[0]) < 3e-7 && Math.abs(a[1] - b[1]) < 3e-7;
  }

  // A ring without repeated points and without zero-width spikes (..., A, B, A', ... with A' within 3 cm
  // of A): a hair-thin sliver in a stored grid comes out of the API's 7-decimal GeoJSON as such a spike,
  // which the API then refuses as a self-touching ring when the page sends the edited outline back.
  function cleanRing(ring) {
    var pts = ring.slice(0, ring.length > 1 && samePoint(ring[0], ring[ring.length - 1]) ? -1 : ring.length);
    var changed = true;
    while (changed && pts.length > 3) {
      changed = false;
      var out = [];
      for (var i = 0; i < pts.length; i++) {
        if (!out.length || !samePoint(out[out.length - 1], pts[i])) out.push(pts[i]);
      }
      if (out.length > 1 && samePoint(out[0], out[out.length - 1])) out.pop();
      for (var j = 0; j < out.length && out.length > 3; j++) {
        var prev = out[(j - 1 + out.length) % out.length];
        var next = out[(j + 1) % out.length];
        if (samePoint(prev, next)) { // out[j] is the tip of a spike: drop it and its way back
          out.splice(j, 1);
          out.splice(j % out.length, 1);
          changed = true;
          break;
        }
      }
      pts = out;
    }
    return pts.concat([pts[0]]);
  }

  function cleanGeometry(geometry) {
    if (!geometry || !geometry.coordinates) return geometry;
    if (geometry.type === "Polygon") {
      return { type: "Polygon", coordinates: geometry.coordinates.map(cleanRing) };
    }
    if (geometry.type === "MultiPolygon") {
      return { type: "MultiPolygon", coordinates: geometry.coordinates.map(function (poly) {
        return poly.map(cleanRing);
      }) };
    }
    return geometry;
  }

  /* ---------- the start page: plans and "new draft from published" ---------- */

  function initPlans(root) {
    var apiBase = C.apiBase(root);
    var form = document.getElementById("gm-ed-new-form");
    var name = document.getElementById("gm-ed-new-name");
    var button = document.getElementById("gm-ed-new");
    var status = document.getElementById("gm-ed-new-status");
    if (!form) return;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { name: (name.value || "").trim() || "草稿 Draft" };
      if (root.dataset.source) body.source = Number(root.dataset.source);
      button.disabled = true;
      status.setAttribute("data-state", "loading");
      status.textContent = "新建草稿中 Creating a draft…";
      request(apiBase, "POST", "/plans", { body: body }).then(function (res) {
        var plan = res.body && (res.body.plan || res.body);
        if (res.ok && plan && plan.id !== undefined) {
          status.setAttribute("data-state", "ok");
          status.textContent = "已新建草稿 Draft #" + plan.id + " created; opening it…";
          window.location.assign("/maps/editor?plan=" + encodeURIComponent(plan.id));
          return;
        }
        button.disabled = false;
        status.setAttribute("data-state", "error");
        status.textContent = (res.status === 403 ? "无权新建 Not allowed: " : "新建失败 Failed: ") + res.message;
      });
    });
  }

  /* ---------- the editor ---------- */

  function init() {
    var page = C.findPage(PANEL_ID, LAYERS);
    if (!page) return false;
    var panel = page.panel, map = page.map, layers = page.layers;
    var hasGeoman = !!(map.pm && L.PM);

    var data = panel.dataset;
    var apiBase = C.apiBase(panel);
    var planId = Number(data.planId);
    // ?community=CODE: this community's grids, buildings and validation only (city-scale plans)
    var SCOPE = data.scope || "";
    var scoped = function (params) {
      var out = params || {};
      if (SCOPE) out.community = SCOPE;
      return Object.keys(out).length ? out : undefined;
    };
    var BANDS = C.parseJSON(data.bands, { households: [200, 300], population: [400, 500] });
    var CLASSES = C.parseJSON(data.classes, []); // [[class, label, colour], ...]
    var CLASS_COLOURS = {};
    CLASSES.forEach(function (c) { CLASS_COLOURS[c[0]] = c[2]; });
    var PALETTE = C.parseJSON(data.palette, ["#1b9e77", "#d95f02", "#7570b3", "#e7298a"]);

    var statusBox = document.getElementById("gm-ed-status");
    var hintBox = document.getElementById("gm-ed-hint");
    var targetBox = document.getElementById("gm-ed-target");
    var targetSwatch = document.getElementById("gm-ed-target-swatch");
    var versionBox = document.getElementById("gm-ed-plan-version");
    var planStatusBox = document.getElementById("gm-ed-plan-status");
    var planNameBox = document.getElementById("gm-ed-plan-name");
    var publishBox = document.getElementById("gm-ed-publish-box");
    var problemList = document.getElementById("gm-ed-problems");
    var problemCount = document.getElementById("gm-ed-problem-count");
    var diffBox = document.getElementById("gm-ed-diff-summary");
    var diffToggle = document.getElementById("gm-ed-diff");
    var editList = document.getElementById("gm-ed-edits");
    var splitActions = document.getElementById("gm-ed-split-actions");
    var table = document.getElementById("gm-ed-metrics");
    var tbody = table.querySelector("tbody");
    var communitySelect = document.getElementById("gm-ed-community");
    var legend = document.querySelector(".gm-ed-legend");
    var metricsPanel = document.querySelector(".gm-ed-metrics-panel");
    var modeButtons = Array.prototype.slice.call(panel.querySelectorAll(".gm-ed-mode"));
    var writeButtons = ["gm-ed-undo", "gm-ed-redo", "gm-ed-publish"].map(function (id) {
      return document.getElementById(id);
    });

    map.getContainer().classList.add("gm-editor-map");

    // labels above the buildings, never in the way of a click
    C.pane(map, "gm-ed-labels", 450, true);

    // the errors' and the diff's hatches: SVG patterns (editor.css: fill: url(#gm-ed-hatch), url(#gm-ed-diff-hatch))
    C.addHatches("gm-ed-defs", [
      { id: "gm-ed-hatch", colour: "#c1121f", angle: 45, size: 7, line: 2, backOpacity: 0.08, lineOpacity: 0.8 },
      { id: "gm-ed-diff-hatch", colour: "#7b2cbf", angle: -45, size: 7, line: 2, backOpacity: 0.08, lineOpacity: 0.8 },
    ]);

    /* ---------- state ---------- */

    var S = {
      plan: { id: planId, name: data.planName, status: data.planStatus, version: Number(data.planVersion) },
      version: Number(data.planVersion),
      mode: "paint",
      target: null,
      selected: null, // boundary / split: the grid; merge: the first grid
      grids: {}, // code -> properties (GET /grids)
      gridLayers: {}, // code -> L.Path
      buildings: {}, // code -> properties (GET /v1/buildings?plan=)
      buildingLayers: {}, // code -> L.Path
      metrics: {}, // code -> validation metrics
      problems: [],
      valid: null,
      publishable: null,
      validationError: null,
      edits: [],
      diffOn: false,
      diff: null,
      moved: {}, // building code -> {from, to}
      busy: 0,
      loading: false,
      reloads: 0,
      message: { state: "loading", text: "" },
      lastResult: null,
      pendingWarnings: null,
      brushing: null, // building codes under the brush
      editing: null, // the grid layer Geoman edits
      drewAt: 0, // when the last split line was finished
      community: "",
      loadError: null,
    };

    function setStatus(state, text) {
      S.message = { state: state, text: text };
      statusBox.setAttribute("data-state", state);
      statusBox.textContent = text;
    }

    function setBusy(delta) {
      S.busy += delta;
      api.busy = S.busy > 0;
      panel.classList.toggle("gm-ed-busy", S.busy > 0);
    }

    function isDraft() {
      return S.plan.status === "draft";
    }

    /* ---------- colours and styles ---------- */

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
      var hd = deviation(p.households, BANDS.households);
      var pd = deviation(p.population, BANDS.population);
      return {
        code: code, community_code: p.community_code, households: p.households, population: p.population,
        buildings: p.buildings, units: p.units, area_m2: null, polsby_popper: null, contiguous: null,
        households_deviation: hd, population_deviation: pd,
        band: hd < 0 || pd < 0 ? "under" : hd > 0 || pd > 0 ? "over" : "ok", estimated: true,
      };
    }

    function gridColour(code) {
      var s = String(code || "");
      var n = /^\d{15}$/.test(s) ? Number(s.slice(-3)) - 1 : 0;
      if (!/^\d{15}$/.test(s)) for (var i = 0; i < s.length; i++) n = (n * 31 + s.charCodeAt(i)) % 9973;
      return PALETTE[((n % PALETTE.length) + PALETTE.length) % PALETTE.length];
    }

    function gridFill(code) {
      var m = metricsOf(code);
      if (!m) return "#e0e0e0";
      return CLASS_COLOURS[devClass(m.households_deviation, BANDS.households)] || "#e0e0e0";
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
      var m = metricsOf(code) || {};
      var box = el("div", "gm-ed-tip");
      box.appendChild(el("strong", null, (p.name || code) + " · " + gridNumber(code)));
      box.appendChild(el("div", "gm-ed-tip-code", code));
      var dl = el("dl");
      var hh = BANDS.households;
      var pop = BANDS.population;
      rows(dl, [
        ["户数 Households", grouped(m.households) + " (" + hh[0] + "–" + hh[1] + ", " +
          signed(m.households_deviation) + ")", m.households_deviation ? "gm-ed-off" : null],
        ["人口 Population", grouped(m.population) + " (" + pop[0] + "–" + pop[1] + ", " +
          signed(m.population_deviation) + ")", m.population_deviation ? "gm-ed-off" : null],
        ["楼栋 / 单元 Bldg / units", grouped(m.buildings) + " / " + grouped(m.units)],
        isNum(m.area_m2) ? ["面积 Area", grouped(m.area_m2) + " m²"] : null,
        isNum(m.polsby_popper) ? ["紧凑度 Polsby–Popper", m.polsby_popper.toFixed(2)] : null,
        m.contiguous === false ? ["连通 Contiguous", "否 no (" + (m.parts || "?") + " 块 parts)", "gm-ed-off"] : null,
        p.grid_member ? ["网格员 Grid member", p.grid_member] : null,
      ]);
      box.appendChild(dl);
      S.problems.forEach(function (problem) {
        if ((problem.grids || []).indexOf(code) >= 0) {
          box.appendChild(el("div", "gm-ed-tip-problem gm-ed-" + problem.severity,
            (KIND_LABELS[problem.kind] || problem.kind) + ": " + problem.detail));
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
      return box;
    }

    /* ---------- grids and buildings on the map ---------- */

    function bindGrid(feature, layer) {
      var code = feature.properties.code;
      S.gridLayers[code] = layer;
      layer.bindTooltip(function () { return gridTooltip(code); }, { sticky: true, className: "gm-ed-tooltip" });
      layer.on("click", onGridClick);
      layer.on("contextmenu", onGridContext);
    }

    function bindBuilding(feature, layer) {
      var code = feature.properties.code;
      S.buildingLayers[code] = layer;
      layer.bindTooltip(function () { return buildingTooltip(code); },
        { sticky: true, className: "gm-ed-tooltip", direction: "top", offset: [0, -8] });
      layer.on("mousedown", onBuildingDown);
      layer.on("mouseover", onBuildingOver);
      layer.on("contextmenu", onBuildingContext);
    }

    // take over folium's layers: our styles and handlers, for what is there and what reload() adds
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

    function drawGrids(fc) {
      stopEditing();
      S.grids = {};
      S.gridLayers = {};
      (fc.features || []).forEach(function (f) {
        if (f.properties && f.properties.code) S.grids[f.properties.code] = f.properties;
      });
      layers.grids.clearLayers();
      layers.grids.addData(fc);
      if (S.target && !S.grids[S.target]) setTarget(null);
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
        var m = metricsOf(code) || {};
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
          box.appendChild(el("div", null, problem.detail));
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

    function drawProblems() {
      layers.problems.clearLayers();
      clear(problemList);
      var errors = 0;
      var warnings = 0;
      S.problems.forEach(function (problem) {
        if (problem.severity === "error") errors += 1;
        else warnings += 1;
        var layer = null;
        if (problem.geometry) {
          try {
            layer = problemLayer(problem);
            layers.problems.addLayer(layer);
          } catch (e) {
            layer = null;
          }
        }
        var li = el("li", "gm-ed-problem-item gm-ed-" + problem.severity);
        li.setAttribute("data-kind", problem.kind);
        li.appendChild(el("span", "gm-ed-problem-kind", (problem.severity === "error" ? "错误 " : "警告 ") +
          (KIND_LABELS[problem.kind] || problem.kind)));
        li.appendChild(el("span", "gm-ed-problem-detail", problem.detail));
        li.tabIndex = 0;
        var show = function () {
          var bounds = layer && layer.getBounds ? layer.getBounds() : null;
          if ((!bounds || !bounds.isValid()) && (problem.grids || []).length && S.gridLayers[problem.grids[0]]) {
            bounds = S.gridLayers[problem.grids[0]].getBounds();
          }
          if (bounds && bounds.isValid()) fitTo(bounds, 18);
          if (layer && problem.severity === "error") {
            layer.eachLayer(function (l) { l.openTooltip(bounds.getCenter()); });
          }
        };
        li.addEventListener("click", show);
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") show(); });
        problemList.appendChild(li);
      });
      problemCount.textContent = S.validationError ? "(?)" :
        "(" + errors + " 错误 errors · " + warnings + " 警告 warnings)";
      problemCount.setAttribute("data-errors", String(errors));
      problemCount.setAttribute("data-warnings", String(warnings));
      if (!S.problems.length && !S.validationError) {
        problemList.appendChild(el("li", "gm-ed-problem-none", isDraft() ? "无问题，可以发布 No problems: ready to publish"
          : "无问题 No problems"));
      }
    }

    /* ---------- the metrics table ---------- */

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
      clear(tbody);
      var counts = {};
      var codes = Object.keys(S.grids).sort();
      codes.forEach(function (code) {
        var m = metricsOf(code);
        if (!m) return;
        var cls = devClass(m.households_deviation, BANDS.households);
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
        swatch.style.background = gridColour(code);
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
        dev.style.background = CLASS_COLOURS[cls] || "";
        if (cls === "under-far" || cls === "over-far") dev.classList.add("gm-ed-dev-far");
        tr.appendChild(dev);
        tbody.appendChild(tr);
      });
      if (legend) {
        Array.prototype.forEach.call(legend.querySelectorAll("[data-count]"), function (node) {
          node.textContent = "(" + (counts[node.getAttribute("data-count")] || 0) + ")";
        });
      }
    }

    function scrollToRow(code) {
      var row = tbody.querySelector('tr[data-code="' + String(code).replace(/"/g, "") + '"]');
      if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
    }

    tbody.addEventListener("click", function (e) {
      var tr = e.target.closest ? e.target.closest("tr[data-code]") : null;
      if (!tr) return;
      var code = tr.getAttribute("data-code");
      if (S.mode === "paint") {
        setTarget(code);
      } else {
        var layer = S.gridLayers[code];
        if (layer) fitTo(layer.getBounds(), 18);
        if (S.mode === "boundary" || S.mode === "split" || S.mode === "merge") onGridPicked(code);
      }
    });
    communitySelect.addEventListener("change", function () {
      S.community = communitySelect.value;
      fillTable();
      if (S.community) {
        var bounds = L.latLngBounds([]);
        Object.keys(S.gridLayers).forEach(function (code) {
          if ((S.grids[code] || {}).community_code === S.community) bounds.extend(S.gridLayers[code].getBounds());
        });
        if (bounds.isValid()) fitTo(bounds, 18);
      }
    });

    /* ---------- plan, edits, diff ---------- */

    var STATUS_LABELS = { draft: "草稿 draft", published: "已发布 published", retired: "已停用 retired" };

    function setPlan(plan) {
      if (!plan || plan.id !== planId) return;
      S.plan = plan;
      if (isNum(plan.version)) S.version = plan.version;
      versionBox.textContent = String(S.version);
      planStatusBox.textContent = STATUS_LABELS[plan.status] || plan.status;
      if (plan.name) planNameBox.textContent = plan.name;
      panel.classList.toggle("gm-ed-readonly", !isDraft());
      modeButtons.concat(writeButtons).forEach(function (b) { b.disabled = !isDraft(); });
    }

    function drawEdits() {
      clear(editList);
      S.edits.slice(-8).reverse().forEach(function (e) {
        var li = el("li", e.undone ? "gm-ed-edit gm-ed-undone" : "gm-ed-edit");
        var when = e.at ? String(e.at).slice(11, 19) : "";
        li.appendChild(el("span", "gm-ed-edit-op", (OP_LABELS[e.op] || e.op) + " " +
          (e.grids || []).map(gridNumber).join(", ")));
        li.appendChild(el("span", "gm-ed-edit-who", (e.actor || "") + " " + when + (e.undone ? " · 已撤销 undone" : "")));
        editList.appendChild(li);
      });
    }

    function drawDiff() {
      layers.diff.clearLayers();
      S.moved = {};
      clear(diffBox);
      diffBox.hidden = !S.diffOn;
      if (!S.diffOn) return;
      var d = S.diff;
      if (!d) {
        diffBox.textContent = "差异加载中 Loading the diff…";
        return;
      }
      (d.grids || []).forEach(function (g) {
        if (!g.geometry) return;
        layers.diff.addLayer(L.geoJSON(g.geometry, {
          pane: "gm-ed-diff", interactive: false, pmIgnore: true, snapIgnore: true,
          style: { color: "#7b2cbf", weight: 1.6, opacity: 0.95, fillColor: "#7b2cbf", fillOpacity: 1,
                   className: "gm-ed-diff-area" },
        }));
      });
      (d.buildings_moved || []).forEach(function (b) { S.moved[b.code] = { from: b.from, to: b.to }; });
      var against = d.against && d.against.id !== undefined ? "#" + d.against.id : "已发布 published";
      diffBox.appendChild(el("div", "gm-ed-diff-head", "与 " + against + " 相比 Against plan " + against + ": " +
        (d.grids || []).length + " 个网格变化 grids changed · " + (d.buildings_moved || []).length +
        " 栋楼移动 buildings moved · " + grouped(d.households_moved || 0) + " 户 households moved"));
      var ul = el("ul", "gm-ed-diff-list");
      (d.buildings_moved || []).slice(0, 12).forEach(function (b) {
        ul.appendChild(el("li", null, (b.address || b.code) + ": " + gridNumber(b.from) + " → " + gridNumber(b.to) +
          " (" + grouped(b.households) + " 户)"));
      });
      diffBox.appendChild(ul);
    }

    /* ---------- loading ---------- */

    function get(path, params) {
      return request(apiBase, "GET", path, { params: params });
    }

    // a draft against the published plan (the API's default); a published or retired plan against the
    // plan it was drawn from
    function diffParams() {
      return !isDraft() && S.plan.parent_id ? { against: S.plan.parent_id } : undefined;
    }

    var reloadSeq = 0;
    function reload() {
      var mine = ++reloadSeq;
      S.loading = true;
      setBusy(1);
      var base = "/plans/" + planId;
      return Promise.all([
        get(base), get(base + "/grids", scoped()), get("/buildings", scoped({ plan: planId })),
        get(base + "/validation", scoped()),
        get(base + "/edits"), S.diffOn ? get(base + "/diff", diffParams()) : Promise.resolve(null),
      ]).then(function (r) {
        if (mine !== reloadSeq) return false; // a newer reload is on its way
        var failures = [];
        if (r[0].ok) setPlan(r[0].body);
        else failures.push("plan: " + r[0].message);
        if (r[1].ok) drawGrids(r[1].body);
        else failures.push("grids: " + r[1].message);
        if (r[2].ok) updateBuildings(r[2].body);
        else failures.push("buildings: " + r[2].message);
        if (r[3].ok && r[3].body) {
          var v = r[3].body;
          S.metrics = {};
          (v.metrics || []).forEach(function (m) { S.metrics[m.code] = m; });
          S.problems = v.problems || [];
          S.valid = v.valid;
          S.publishable = v.publishable;
          S.validationError = null;
          if (v.bands) BANDS = v.bands;
          if (v.plan) setPlan(v.plan);
        } else {
          S.metrics = {};
          S.problems = [];
          S.valid = S.publishable = null;
          S.validationError = r[3].message;
          failures.push("validation: " + r[3].message);
        }
        S.edits = r[4].ok && r[4].body ? r[4].body.edits || [] : [];
        if (S.diffOn) {
          S.diff = r[5] && r[5].ok ? r[5].body : null;
          if (r[5] && !r[5].ok) failures.push("diff: " + r[5].message);
        }
        fillCommunities();
        fillTable();
        drawLabels();
        drawProblems();
        drawDiff();
        drawEdits();
        restyle();
        showTarget();
        if (S.mode === "boundary" && S.selected) startEditing(S.selected);
        S.reloads += 1;
        S.loadError = failures.length ? failures.join("; ") : null;
        return failures;
      }).then(function (result) {
        if (mine === reloadSeq) S.loading = false;
        setBusy(-1);
        return result;
      }, function (err) {
        if (mine === reloadSeq) S.loading = false;
        setBusy(-1);
        S.loadError = errorText(err);
        return [S.loadError];
      });
    }

    /* ---------- writes ---------- */

    var chain = Promise.resolve();

    // one write at a time, each with the version the previous one left
    function write(method, path, body, what, opts) {
      opts = opts || {};
      var run = function () {
        setBusy(1);
        setStatus("loading", what + "…");
        return request(apiBase, method, "/plans/" + planId + path, { body: body, version: S.version })
          .then(function (res) {
            S.lastResult = res;
            if (res.ok) {
              if (res.body && res.body.plan) setPlan(res.body.plan);
              if (opts.reload === false) return res;
              return reload().then(function () {
                setStatus("ok", describe(what, res.body));
                return res;
              });
            }
            return failed(res, what);
          })
          .then(function (res) {
            setBusy(-1);
            return res;
          }, function (err) {
            setBusy(-1);
            setStatus("error", what + " 失败 failed: " + errorText(err));
            return { ok: false, status: 0, code: "script", message: errorText(err), body: null };
          });
      };
      var p = chain.then(run, run);
      chain = p.then(function () {}, function () {});
      return p;
    }

    function describe(what, body) {
      var parts = [what + " ✓", "版本 v" + S.version];
      if (body) {
        if ((body.changed || []).length) parts.push("变化 changed " + body.changed.map(gridNumber).join(", "));
        if ((body.created || []).length) parts.push("新建 created " + body.created.map(gridNumber).join(", "));
        if ((body.removed || []).length) parts.push("删除 removed " + body.removed.map(gridNumber).join(", "));
      }
      return parts.join(" · ");
    }

    function failed(res, what) {
      if (res.code === "stale_version") {
        // someone else edited the draft: say who and what (the server's message), then catch up
        setStatus("stale", "版本冲突 Version conflict — " + res.message);
        return reload().then(function () { return res; });
      }
      if (res.status === 403) {
        setStatus("forbidden", "无权修改 Not allowed (" + what + "): " + res.message);
      } else if (res.status === 401) {
        setStatus("forbidden", "请重新登录 Sign in again: " + res.message);
      } else if (res.code === "not_a_draft") {
        setStatus("error", "只读 Read-only: " + res.message);
      } else {
        setStatus("error", what + " 失败 failed (" + res.status + (res.code ? " " + res.code : "") + "): " +
          res.message);
      }
      return Promise.resolve(res);
    }

    function assign(building, grid) {
      var label = "移楼 Assign " + ((S.buildings[building] || {}).address || building) + " → " + gridNumber(grid);
      return write("POST", "/assign", { building: building, grid: grid }, label);
    }

    // a brush stroke: all its buildings in one edit (one version, one undo step)
    function assignMany(codes, grid) {
      if (codes.length === 1) return assign(codes[0], grid);
      var label = "移楼 Assign " + codes.length + " 栋 buildings → " + gridNumber(grid);
      return write("POST", "/assign", { buildings: codes, grid: grid }, label);
    }

    function reshape(code, geometry, neighbours) {
      geometry = cleanGeometry(geometry);
      return write("PUT", "/grids/" + encodeURIComponent(code), { geometry: geometry, neighbours: neighbours || "adjust" },
        "改边界 Boundary " + gridNumber(code));
    }

    function split(code, line) {
      return write("POST", "/split", { grid: code, line: line }, "拆分 Split " + gridNumber(code));
    }

    function merge(a, b) {
      return write("POST", "/merge", { grids: [a, b] }, "合并 Merge " + gridNumber(a) + " + " + gridNumber(b));
    }

    function undo() {
      return write("POST", "/undo", undefined, "撤销 Undo");
    }

    function redo() {
      return write("POST", "/redo", undefined, "重做 Redo");
    }

    function publish(opts) {
      var acknowledge = !!(opts && opts.acknowledge);
      publishBox.hidden = true;
      clear(publishBox);
      return write("POST", "/publish", { acknowledge_warnings: acknowledge }, "发布 Publish").then(function (res) {
        if (res.ok) {
          S.pendingWarnings = null;
          setStatus("ok", "已发布 Published: 方案 plan #" + planId + " 现在生效，查询约一秒内切换 " +
            "is now in force; lookups switch within about a second");
          return res;
        }
        var problems = (res.details && res.details.problems) || [];
        if (res.code === "warnings_not_acknowledged") {
          S.pendingWarnings = problems;
          showPublishProblems(problems, true);
          setStatus("warning", "有 " + problems.length + " 条范围警告，需确认后发布 " + problems.length +
            " band warning(s): acknowledge them to publish");
        } else if (res.code === "plan_invalid") {
          S.pendingWarnings = null;
          showPublishProblems(problems, false);
          setStatus("error", "方案有错误，不能发布 The plan has errors and cannot be published: " + res.message);
        }
        return res;
      });
    }

    function showPublishProblems(problems, acknowledgeable) {
      clear(publishBox);
      publishBox.hidden = false;
      publishBox.setAttribute("data-kind", acknowledgeable ? "warnings" : "errors");
      publishBox.appendChild(el("div", "gm-ed-publish-head", acknowledgeable
        ? "发布前请确认以下警告 Acknowledge these warnings to publish:"
        : "请先修正以下错误 Fix these errors first:"));
      var ol = el("ol", "gm-ed-publish-problems");
      problems.forEach(function (p) {
        ol.appendChild(el("li", "gm-ed-" + (p.severity || (acknowledgeable ? "warning" : "error")),
          (KIND_LABELS[p.kind] || p.kind) + ": " + p.detail));
      });
      publishBox.appendChild(ol);
      if (acknowledgeable) {
        var row = el("div", "gm-ed-publish-actions");
        var confirm = el("button", "gm-ed-primary gm-ed-danger",
          "确认 " + problems.length + " 条范围警告并发布 Acknowledge " + problems.length +
          " band warning" + (problems.length === 1 ? "" : "s") + " and publish");
        confirm.type = "button";
        confirm.id = "gm-ed-publish-ack";
        confirm.addEventListener("click", function () { publish({ acknowledge: true }); });
        var cancel = el("button", null, "取消 Cancel");
        cancel.type = "button";
        cancel.addEventListener("click", function () {
          publishBox.hidden = true;
          S.pendingWarnings = null;
        });
        row.appendChild(confirm);
        row.appendChild(cancel);
        publishBox.appendChild(row);
      }
    }

    /* ---------- modes ---------- */

    function setMode(mode) {
      if (!MODE_HINTS[mode]) return;
      endBrush(true);
      stopEditing();
      stopDrawing();
      S.mode = mode;
      S.selected = null;
      modeButtons.forEach(function (b) {
        var on = b.getAttribute("data-mode") === mode;
        b.classList.toggle("gm-ed-on", on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
      });
      map.getContainer().setAttribute("data-gm-mode", mode);
      if (mode === "split") map.doubleClickZoom.disable(); // a double-click ends the line
      else map.doubleClickZoom.enable();
      hintBox.textContent = MODE_HINTS[mode];
      showTarget();
      restyle();
      fillTable();
    }

    function setTarget(code) {
      S.target = code && S.grids[code] ? code : null;
      if (S.target && S.community && (S.grids[S.target] || {}).community_code !== S.community) {
        communitySelect.value = "";
        S.community = "";
      }
      showTarget();
      restyle();
      fillTable();
      if (S.target) scrollToRow(S.target);
    }

    function showTarget() {
      if (S.target) {
        var p = S.grids[S.target] || {};
        targetBox.textContent = gridNumber(S.target) + " " + (p.name || "");
        targetSwatch.style.background = gridColour(S.target);
        targetSwatch.hidden = false;
      } else {
        targetBox.textContent = "–";
        targetSwatch.hidden = true;
      }
    }

    function modifier(e) {
      var o = e && e.originalEvent;
      return !!(o && (o.altKey || o.ctrlKey || o.metaKey || o.shiftKey));
    }

    function onGridClick(e) {
      var code = e.target.feature.properties.code;
      if (S.mode === "paint") {
        if (modifier(e)) setTarget(code);
        return;
      }
      if (S.mode === "split" && hasGeoman && map.pm.globalDrawModeEnabled()) return; // a click of the line
      onGridPicked(code);
    }

    function onGridContext(e) {
      if (S.mode !== "paint") return;
      L.DomEvent.preventDefault(e.originalEvent);
      setTarget(e.target.feature.properties.code);
    }

    function onGridPicked(code) {
      if (!isDraft()) return;
      if (S.mode === "boundary") {
        S.selected = code;
        restyle();
        startEditing(code);
        setStatus("ok", "拖动 " + gridNumber(code) + " 的顶点 Drag the vertices of grid " + gridNumber(code));
      } else if (S.mode === "split") {
        if (Date.now() - S.drewAt < 600) return; // the last clicks of the double-click that ended a line
        S.selected = code;
        restyle();
        // after this click is handled: Geoman would take the very click that picked the grid as a vertex
        setTimeout(function () { if (S.mode === "split" && S.selected === code) startDrawing(); }, 0);
        setStatus("ok", "画一条穿过 " + gridNumber(code) + " 的线 Draw a line across grid " + gridNumber(code) +
          " (双击结束 double-click ends)");
      } else if (S.mode === "merge") {
        if (!S.selected || S.selected === code) {
          S.selected = S.selected === code ? null : code;
          restyle();
          if (S.selected) setStatus("ok", "再点击相邻网格 Now click a neighbour of grid " + gridNumber(code));
          return;
        }
        var first = S.selected;
        S.selected = null;
        restyle();
        merge(first, code);
      }
    }

    /* paint: click or brush */

    function onBuildingDown(e) {
      if (S.mode !== "paint" || !isDraft()) return;
      var o = e.originalEvent;
      if (o && o.button !== undefined && o.button !== 0) return;
      var p = e.target.feature.properties;
      if (modifier(e)) {
        if (p.grid_code) setTarget(p.grid_code); // the eyedropper
        return;
      }
      if (!S.target) {
        setStatus("warning", "先选择目标网格 Pick a target grid first: 点击表格中的一行 click a row of the table " +
          "(或 Alt+点击地图 or Alt-click the map)");
        return;
      }
      S.brushing = [p.code];
      map.dragging.disable(); // the drag paints instead of panning
      e.target.setStyle(buildingStyle(e.target.feature));
      document.addEventListener("mouseup", onBrushUp, true);
    }

    function onBuildingOver(e) {
      if (!S.brushing) return;
      var code = e.target.feature.properties.code;
      if (S.brushing.indexOf(code) < 0) {
        S.brushing.push(code);
        e.target.setStyle(buildingStyle(e.target.feature));
      }
    }

    function onBuildingContext(e) {
      if (S.mode !== "paint") return;
      L.DomEvent.preventDefault(e.originalEvent);
      var p = e.target.feature.properties;
      if (p.grid_code) setTarget(p.grid_code);
    }

    function onBrushUp() {
      endBrush(false);
    }

    function endBrush(cancel) {
      document.removeEventListener("mouseup", onBrushUp, true);
      if (!S.brushing) return null;
      var codes = S.brushing;
      S.brushing = null;
      map.dragging.enable();
      restyle();
      if (cancel || !S.target) return null;
      var target = S.target;
      var moving = codes.filter(function (c) { return (S.buildings[c] || {}).grid_code !== target; });
      if (!moving.length) {
        setStatus("ok", "已在目标网格 Already in grid " + gridNumber(target));
        return null;
      }
      return assignMany(moving, target);
    }

    /* boundary: Geoman's vertex editing */

    function startEditing(code) {
      stopEditing();
      var layer = S.gridLayers[code];
      if (!layer || !hasGeoman || !layer.pm) {
        if (!hasGeoman) setStatus("error", "Leaflet-Geoman 未加载 is not loaded: boundary editing is unavailable");
        return;
      }
      layer.pm.enable({ snappable: true, snapDistance: 14, allowSelfIntersection: false, draggable: false });
      layer.on("pm:edit", onBoundaryEdit);
      S.editing = layer;
    }

    function stopEditing() {
      var layer = S.editing;
      S.editing = null;
      if (!layer) return;
      layer.off("pm:edit", onBoundaryEdit);
      if (layer.pm && layer.pm.enabled()) layer.pm.disable();
    }

    function onBoundaryEdit(e) {
      var layer = e.layer || e.target;
      var code = layer.feature && layer.feature.properties.code;
      if (!code) return;
      reshape(code, layer.toGeoJSON(7).geometry, "adjust");
    }

    /* split: Geoman's line drawing */

    function startDrawing() {
      if (!hasGeoman) {
        setStatus("error", "Leaflet-Geoman 未加载 is not loaded: drawing a split line is unavailable");
        return;
      }
      map.pm.enableDraw("Line", {
        snappable: true, snapDistance: 14, finishOn: "dblclick", continueDrawing: false,
        templineStyle: { color: "#0b5cad", weight: 3 }, hintlineStyle: { color: "#0b5cad", dashArray: "5 5" },
        pathOptions: { color: "#0b5cad", weight: 3 },
      });
      splitActions.hidden = false;
    }

    function stopDrawing() {
      if (hasGeoman && map.pm.globalDrawModeEnabled()) map.pm.disableDraw();
      splitActions.hidden = true;
    }

    if (hasGeoman) {
      map.pm.setGlobalOptions({ snappable: true, snapDistance: 14, allowSelfIntersection: false });
      map.on("pm:create", function (e) {
        if (e.shape !== "Line") return;
        S.drewAt = Date.now();
        var line = e.layer.toGeoJSON(7).geometry;
        map.removeLayer(e.layer);
        splitActions.hidden = true;
        if (S.mode === "split" && S.selected) {
          var code = S.selected;
          S.selected = null;
          split(code, line);
        }
      });
    }

    document.getElementById("gm-ed-split-finish").addEventListener("click", function () {
      var draw = hasGeoman && map.pm.Draw && map.pm.Draw.Line;
      if (draw && draw._enabled && typeof draw._finishShape === "function") draw._finishShape();
    });
    document.getElementById("gm-ed-split-cancel").addEventListener("click", function () {
      stopDrawing();
      S.selected = null;
      restyle();
    });

    /* ---------- the view ---------- */

    function padding() {
      var w = map.getSize().x;
      var left = panel.parentNode && panel.parentNode.offsetWidth ? panel.parentNode.offsetWidth + 20 : 20;
      var right = metricsPanel && metricsPanel.offsetWidth ? metricsPanel.offsetWidth + 20 : 20;
      if (left + right > w - 240) {
        left = 20;
        right = 20;
      }
      return { tl: [left, 20], br: [right, 20] };
    }

    function fitTo(bounds, maxZoom) {
      var pad = padding();
      map.fitBounds(bounds, { paddingTopLeft: pad.tl, paddingBottomRight: pad.br, maxZoom: maxZoom || 18,
                              animate: false });
    }

    function fitTown() {
      var bounds = layers.grids.getBounds();
      if (bounds && bounds.isValid()) fitTo(bounds, 18);
    }

    /* ---------- wiring ---------- */

    modeButtons.forEach(function (b) {
      b.addEventListener("click", function () { setMode(b.getAttribute("data-mode")); });
    });
    document.getElementById("gm-ed-undo").addEventListener("click", function () { undo(); });
    document.getElementById("gm-ed-redo").addEventListener("click", function () { redo(); });
    document.getElementById("gm-ed-publish").addEventListener("click", function () { publish({ acknowledge: false }); });
    diffToggle.addEventListener("change", function () { showDiff(diffToggle.checked); });
    document.addEventListener("keydown", function (e) {
      if (e.target && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
      if ((e.ctrlKey || e.metaKey) && (e.key === "z" || e.key === "Z")) {
        e.preventDefault();
        if (e.shiftKey) redo();
        else undo();
      } else if ((e.ctrlKey || e.metaKey) && (e.key === "y" || e.key === "Y")) {
        e.preventDefault();
        redo();
      } else if (e.key === "Escape") {
        endBrush(true);
        stopDrawing();
        if (S.mode !== "paint") {
          stopEditing();
          S.selected = null;
          restyle();
        }
      }
    });

    function showDiff(on) {
      S.diffOn = !!on;
      diffToggle.checked = S.diffOn;
      S.diff = null;
      if (!S.diffOn) {
        drawDiff();
        restyle();
        return Promise.resolve(null);
      }
      drawDiff();
      return get("/plans/" + planId + "/diff", diffParams()).then(function (res) {
        if (!S.diffOn) return res;
        if (res.ok) S.diff = res.body;
        else setStatus("error", "差异 Diff 失败 failed: " + res.message);
        drawDiff();
        restyle();
        return res;
      });
    }

    var api = {
      ready: false,
      busy: false,
      map: map,
      layers: layers,
      assign: assign,
      publish: publish,
      undo: undo,
      redo: redo,
      split: split,
      merge: merge,
      reshape: reshape,
      cleanGeometry: cleanGeometry,
      setMode: function (mode) { setMode(mode); return S.mode; },
      setTarget: function (code) { setTarget(code); return S.target; },
      diff: showDiff,
      reload: reload,
      state: function () {
        var metrics = {};
        Object.keys(S.grids).forEach(function (code) { metrics[code] = metricsOf(code); });
        var buildings = {};
        Object.keys(S.buildings).forEach(function (code) { buildings[code] = S.buildings[code].grid_code || null; });
        return {
          plan: L.extend({}, S.plan),
          version: S.version,
          mode: S.mode,
          target: S.target,
          selected: S.selected,
          metrics: metrics,
          problems: S.problems.slice(),
          valid: S.valid,
          publishable: S.publishable,
          buildings: buildings,
          busy: S.busy > 0,
          loading: S.loading,
          reloads: S.reloads,
          loadError: S.loadError || null,
          message: L.extend({}, S.message),
          pendingWarnings: S.pendingWarnings ? S.pendingWarnings.length : 0,
          lastResult: S.lastResult ? { ok: S.lastResult.ok, status: S.lastResult.status, code: S.lastResult.code,
                                       message: S.lastResult.message } : null,
          diff: S.diffOn && S.diff ? { grids: (S.diff.grids || []).length,
                                       buildingsMoved: (S.diff.buildings_moved || []).length,
                                       householdsMoved: S.diff.households_moved } : null,
          geoman: hasGeoman,
          editing: S.editing ? S.editing.feature.properties.code : null,
          zoom: map.getZoom(),
        };
      },
    };
    window.gridmapEditor = api;

    setPlan(S.plan);
    setMode("paint");
    fitTown();
    setStatus("loading", "加载中 Loading…");
    reload().then(function (failures) {
      if (failures && failures.length) setStatus("error", "加载失败 Failed to load: " + failures.join("; "));
      else {
        var errors = S.problems.filter(function (p) { return p.severity === "error"; }).length;
        setStatus("ok", Object.keys(S.grids).length + " 个网格 grids · " + Object.keys(S.buildings).length +
          " 栋楼 buildings · " + errors + " 错误 errors · " + (S.problems.length - errors) + " 警告 warnings" +
          (isDraft() ? "" : " · 只读 read-only (" + (STATUS_LABELS[S.plan.status] || S.plan.status) + ")"));
      }
      api.ready = true;
    });
    return true;
  }

  C.start(function () {
    var plans = document.getElementById(PLANS_ID);
    if (!plans) return init();
    initPlans(plans);
    return true;
  }, "gridmap editor: no Leaflet map with the editor's layers here");
})();
