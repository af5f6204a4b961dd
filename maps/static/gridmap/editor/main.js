/*
 * gridmap planners' editor (/maps/editor?plan=ID): its state, the view and the wiring; the last of the
 * editor's scripts. Built by maps/editor.py, which loads with <script defer>, in this order (after
 * common.js, window.gridmapCommon; maps.editor.SCRIPT_PATHS):
 *   editor/text.js      words and number texts
 *   editor/geometry.js  geometry clean-up before a PUT
 *   editor/api.js       one call to the planners' API (If-Match, the error envelope)
 *   editor/sync.js      reload, the write queue, the writes (assign, reshape, split, merge, undo, publish)
 *   editor/render.js    styles, tooltips, the grids, buildings, labels and problems on the map
 *   editor/table.js     grid metrics and the metrics table
 *   editor/panel.js     plan, problems list, diff, edits, publish box
 *   editor/modes.js     paint / boundary / split / merge / swap
 *   editor/hints.js     before a move or swap: candidate grids, swap hints, the swap's confirmation
 *   editor/main.js      this file
 * Each defines one part of window.gridmapEditorModules; the parts with an install(ed) add their functions
 * to one editor object, ed (made here: the state S, the map and layers, the settings), and call each
 * other's through it. (The start page, /maps/editor, loads common.js, editor/api.js and editor/plans.js.)
 *
 * They run after leaflet.js, Leaflet-Geoman and folium's inline script have made the map, the grids and
 * buildings (L.GeoJSON, options.gmLayer "grids", "buildings", "communities") and the empty groups this
 * script fills ("problems", "diff", "labels"); gridmapCommon.findPage finds them.
 * Settings are data-* attributes of the panel's root #gm-editor (API base, plan, bands, colours).
 *
 * Every write goes to the planners' API with If-Match: "<version the page holds>", one at a time:
 *   POST /v1/plans/{id}/assign {building | buildings, grid}  paint: click a building, or brush several
 *   PUT  /v1/plans/{id}/grids/{code} {geometry, neighbours: "adjust"}   boundary: Geoman vertex edits
 *   POST /v1/plans/{id}/split {grid, line}                split: a line drawn with Geoman
 *   POST /v1/plans/{id}/merge {grids: [a, b]}             merge: two clicks
 *   POST /v1/plans/{id}/swap {buildings: [a, b]}          swap: building A, building B, confirm
 * and reads, before a move or swap, GET /v1/plans/{id}/move-candidates?buildings= (paint with no target:
 * a building click colours the grids it can move to) and /swap-candidates?building= (swap mode)
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
  var M = window.gridmapEditorModules;
  var PANEL_ID = "gm-editor";
  var LAYERS = ["grids", "buildings", "communities", "problems", "diff", "labels"];
  // the parts that add to the editor object, in this order
  var PARTS = ["sync", "render", "table", "panel", "modes", "hints"];

  function init() {
    var page = C.findPage(PANEL_ID, LAYERS);
    if (!page) return false;
    var panel = page.panel, map = page.map, layers = page.layers;

    var data = panel.dataset;
    var planId = Number(data.planId);
    // ?community=CODE: this community's grids, buildings and validation only (city-scale plans)
    var SCOPE = data.scope || "";
    var CLASSES = C.parseJSON(data.classes, []); // [[class, label, colour], ...]
    var CLASS_COLOURS = {};
    CLASSES.forEach(function (c) { CLASS_COLOURS[c[0]] = c[2]; });

    var statusBox = document.getElementById("gm-ed-status");
    var metricsPanel = document.querySelector(".gm-ed-metrics-panel");

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

    // the editor object the parts share
    var ed = {
      S: S,
      panel: panel,
      map: map,
      layers: layers,
      hasGeoman: !!(map.pm && L.PM),
      apiBase: C.apiBase(panel),
      planId: planId,
      bands: C.parseJSON(data.bands, { households: [200, 300], population: [400, 500] }), // validation may replace them
      classColours: CLASS_COLOURS,
      palette: C.parseJSON(data.palette, ["#1b9e77", "#d95f02", "#7570b3", "#e7298a"]),
      modeButtons: Array.prototype.slice.call(panel.querySelectorAll(".gm-ed-mode")),
      writeButtons: ["gm-ed-undo", "gm-ed-redo", "gm-ed-publish"].map(function (id) {
        return document.getElementById(id);
      }),
      hook: null, // window.gridmapEditor
    };

    ed.scoped = function (params) {
      var out = params || {};
      if (SCOPE) out.community = SCOPE;
      return Object.keys(out).length ? out : undefined;
    };

    ed.setStatus = function (state, text) {
      S.message = { state: state, text: text };
      C.setStatus(statusBox, state, text);
    };

    ed.setBusy = function (delta) {
      S.busy += delta;
      ed.hook.busy = S.busy > 0;
      panel.classList.toggle("gm-ed-busy", S.busy > 0);
    };

    ed.isDraft = function () {
      return S.plan.status === "draft";
    };

    // the signed-in key's role may edit drafts (maps/editor.py data-can-edit; the API decides in the end)
    ed.canEdit = data.canEdit !== "false";
    ed.role = data.role || "";

    // this page may write: a draft, and a role that edits
    ed.canWrite = function () {
      return ed.isDraft() && ed.canEdit;
    };

    map.getContainer().classList.add("gm-editor-map");

    // labels above the buildings, never in the way of a click
    C.pane(map, "gm-ed-labels", 450, true);

    // the errors' and the diff's hatches: SVG patterns (editor.css: fill: url(#gm-ed-hatch), url(#gm-ed-diff-hatch))
    C.addHatches("gm-ed-defs", [
      { id: "gm-ed-hatch", colour: "#c1121f", angle: 45, size: 7, line: 2, backOpacity: 0.08, lineOpacity: 0.8 },
      { id: "gm-ed-diff-hatch", colour: "#7b2cbf", angle: -45, size: 7, line: 2, backOpacity: 0.08, lineOpacity: 0.8 },
    ]);

    /* ---------- the view ---------- */

    // a phone (editor.css): the metrics table is a sheet fixed at the bottom of the window, folded at first
    // behind its summary ("网格指标 Grid metrics"), the side panel across the top beside the zoom buttons
    var metricsBox = document.getElementById("gm-ed-metrics-box");
    ed.isPhone = function () {
      return !!metricsPanel && window.getComputedStyle(metricsPanel).position === "fixed";
    };
    // on a phone, fold the sheet (a grid picked from the table then shows on the map)
    ed.foldSheet = function () {
      if (ed.isPhone() && metricsBox && metricsBox.open) metricsBox.open = false;
    };

    function padding() {
      if (ed.isPhone()) { // the part of the map below the side panel and above the sheet
        var box = map.getContainer().getBoundingClientRect();
        var side = panel.parentNode && panel.parentNode.getBoundingClientRect ? panel.parentNode.getBoundingClientRect()
                                                                              : null;
        var top = side && side.height ? Math.max(10, side.bottom - box.top + 10) : 10;
        var bottom = Math.max(10, box.bottom - metricsPanel.getBoundingClientRect().top + 10);
        if (top + bottom > box.height - 120) top = 10;
        return { tl: [10, top], br: [10, bottom] };
      }
      var w = map.getSize().x;
      var left = panel.parentNode && panel.parentNode.offsetWidth ? panel.parentNode.offsetWidth + 20 : 20;
      var right = metricsPanel && metricsPanel.offsetWidth ? metricsPanel.offsetWidth + 20 : 20;
      if (left + right > w - 240) {
        left = 20;
        right = 20;
      }
      return { tl: [left, 20], br: [right, 20] };
    }

    // *bounds* between the side panel (left) and the metrics table (right), both when there is room
    ed.fitTo = function (bounds, maxZoom) {
      var pad = padding();
      map.fitBounds(bounds, { paddingTopLeft: pad.tl, paddingBottomRight: pad.br, maxZoom: maxZoom || 18,
                              animate: false });
    };

    function fitTown() {
      ed.foldSheet();
      var bounds = layers.grids.getBounds();
      if (bounds && bounds.isValid()) ed.fitTo(bounds, 18);
    }

    /* ---------- the parts, then folium's layers taken over ---------- */

    PARTS.forEach(function (name) { M[name].install(ed); });
    ed.takeOverLayers();

    /* ---------- wiring ---------- */

    ed.modeButtons.forEach(function (b) {
      b.addEventListener("click", function () { ed.setMode(b.getAttribute("data-mode")); });
    });
    document.getElementById("gm-ed-undo").addEventListener("click", function () { ed.undo(); });
    document.getElementById("gm-ed-redo").addEventListener("click", function () { ed.redo(); });
    document.getElementById("gm-ed-publish").addEventListener("click", function () { ed.confirmPublish(); });
    document.addEventListener("keydown", function (e) {
      if (e.target && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
      if ((e.ctrlKey || e.metaKey) && (e.key === "z" || e.key === "Z")) {
        e.preventDefault();
        if (e.shiftKey) ed.redo();
        else ed.undo();
      } else if ((e.ctrlKey || e.metaKey) && (e.key === "y" || e.key === "Y")) {
        e.preventDefault();
        ed.redo();
      } else if (e.key === "Escape") {
        if (document.querySelector("dialog[open]")) return; // the dialog's own Esc closes it
        ed.endBrush(true);
        ed.stopDrawing();
        ed.clearHints();
        if (S.mode !== "paint") ed.clearSelection();
      }
    });

    /* ---------- the test hook ---------- */

    var hook = {
      ready: false,
      busy: false,
      map: map,
      layers: layers,
      assign: ed.assign,
      publish: ed.publish,
      confirmPublish: function () { return ed.confirmPublish(); },
      undo: ed.undo,
      redo: ed.redo,
      split: ed.split,
      merge: ed.merge,
      reshape: ed.reshape,
      swap: function (a, b) { return ed.swap(a, b); },
      pickBuilding: function (code) { return ed.pickBuilding(code); },
      swapPick: function (code) { return ed.onSwapPick(code); },
      cleanGeometry: M.geometry.cleanGeometry,
      setMode: function (mode) { ed.setMode(mode); return S.mode; },
      setTarget: function (code) { ed.setTarget(code); return S.target; },
      diff: ed.showDiff,
      reload: ed.reload,
      state: function () {
        var metrics = {};
        Object.keys(S.grids).forEach(function (code) { metrics[code] = ed.metricsOf(code); });
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
          geoman: ed.hasGeoman,
          canEdit: ed.canEdit,
          drawing: ed.hasGeoman && map.pm.globalDrawModeEnabled(),
          editing: S.editing ? S.editing.feature.properties.code : null,
          zoom: map.getZoom(),
          picked: S.picked ? S.picked.slice() : null,
          candidates: S.candidates ? Object.keys(S.candidates).reduce(function (out, code) {
            out[code] = { ok: S.candidates[code].ok,
                          reasons: S.candidates[code].reasons.map(function (r) { return r.detail; }) };
            return out;
          }, {}) : null,
          swapA: S.swapA,
          swapB: S.swapB,
          swapHints: S.swapHints ? S.swapList.map(function (c) { return { building: c.building, grid: c.grid, ok: c.ok }; })
            : null,
        };
      },
    };
    ed.hook = hook;
    window.gridmapEditor = hook;

    /* ---------- start-up ---------- */

    ed.setPlan(S.plan);
    ed.setMode("paint");
    fitTown();
    ed.setStatus("loading", C.LOADING);
    ed.reload().then(function (failures) {
      if (failures && failures.length) ed.setStatus("error", C.LOAD_FAILED + failures.join("; "));
      else {
        var errors = S.problems.filter(function (p) { return p.severity === "error"; }).length;
        ed.setStatus("ok", Object.keys(S.grids).length + " 个网格 grids · " + Object.keys(S.buildings).length +
          " 栋楼 buildings · " + errors + " 错误 errors · " + (S.problems.length - errors) + " 警告 warnings" +
          (!ed.isDraft() ? " · 只读 read-only (" + (M.text.STATUS_LABELS[S.plan.status] || S.plan.status) + ")"
            : ed.canEdit ? "" : " · 只读 read-only (" + (ed.role || "?") + " 密钥 key; 编辑需要 planner editing needs the planner role)"));
      }
      hook.ready = true;
    });
    return true;
  }

  C.start(init, "gridmap editor: no Leaflet map with the editor's layers here");
})();
