/*
 * gridmap editor: the editing modes and the target grid. Part of the editor's scripts (see main.js):
 * window.gridmapEditorModules.modes = {install(ed)}, which gives the editor
 *  - ed.setMode(mode) (paint, boundary, split, merge), setTarget(code), showTarget();
 *  - the grids' and buildings' handlers ed.onGridClick, onGridContext, onGridPicked, onBuildingDown,
 *    onBuildingOver, onBuildingContext (render.js binds them);
 *  - paint: click a building or brush several (ed.endBrush(cancel));
 *  - boundary: Geoman's vertex editing (ed.startEditing(code), stopEditing());
 *  - split: pick the grid (map or table row), then "Draw the line" starts Geoman's line drawing
 *    (ed.startDrawing(), stopDrawing()), ended by a double-click or "Finish line";
 *  - merge: pick a grid (map or row; picking it again keeps it), then click a neighbour;
 *    ed.clearSelection() (Esc, Cancel) drops the picked grid.
 */
(function () {
  "use strict";

  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});

  var MODE_HINTS = {
    paint: "选目标网格（点表格一行，或 Alt/Ctrl/Shift 点击、右键点击地图），再点击或按住拖刷楼栋；未选目标时点楼栋，" +
      "可移往的相邻网格标为绿色 Pick a target grid (a table row, or Alt/Ctrl/Shift-click or right-click the map), then " +
      "click or brush buildings; with no target, a building click colours the grids it can move to (green: both " +
      "grids stay in band and whole)",
    boundary: "点击网格，拖动其顶点（吸附到社区边界和相邻网格）；松开即保存，相邻网格随之调整 " +
      "Click a grid and drag its vertices (they snap to communities and neighbours); each drop saves, neighbours adjust",
    split: "① 选要拆分的网格（点击地图或表格一行）② 点「画拆分线」③ 从网格外点起，穿过网格到外面，双击结束 " +
      "1. Pick the grid to split (click it, or its table row) 2. Press 'Draw the line' 3. Click from outside the " +
      "grid across it to outside; double-click ends",
    swap: "交换：① 点楼栋 A（相邻网格中可行的楼栋 B 以绿框标出）② 点楼栋 B ③ 确认：一次编辑 Swap: 1. Click building A " +
      "(the buildings B of neighbouring grids that keep both grids in band and whole are outlined green) 2. Click " +
      "building B 3. Confirm: one edit",
    merge: "选一个网格（点击地图或表格一行），再点击与它相邻的网格即合并（保留较小的编号） Pick a grid (click it, " +
      "or its table row), then click a neighbour to merge them (the lower code stays)",
  };
  var READ_ONLY_HINT = "只读：查看网格、指标与差异；编辑需要 planner 角色 Read-only: look at the grids, metrics and " +
    "diff; editing needs the planner role";

  function install(ed) {
    var S = ed.S;
    var map = ed.map;
    var hasGeoman = ed.hasGeoman;
    var gridNumber = M.text.gridNumber;

    var hintBox = document.getElementById("gm-ed-hint");
    var targetBox = document.getElementById("gm-ed-target");
    var targetSwatch = document.getElementById("gm-ed-target-swatch");
    var splitActions = document.getElementById("gm-ed-split-actions");
    var splitDraw = document.getElementById("gm-ed-split-draw");
    var splitFinish = document.getElementById("gm-ed-split-finish");

    /* ---------- modes ---------- */

    function setMode(mode) {
      if (!MODE_HINTS[mode]) return;
      endBrush(true);
      stopEditing();
      stopDrawing();
      S.mode = mode;
      S.selected = null;
      if (ed.clearHints) ed.clearHints();
      ed.modeButtons.forEach(function (b) {
        var on = b.getAttribute("data-mode") === mode;
        b.classList.toggle("gm-ed-on", on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
      });
      map.getContainer().setAttribute("data-gm-mode", mode);
      if (mode === "split") map.doubleClickZoom.disable(); // a double-click ends the line
      else map.doubleClickZoom.enable();
      hintBox.textContent = ed.canEdit ? MODE_HINTS[mode] : READ_ONLY_HINT;
      showSelectionActions();
      showTarget();
      ed.restyle();
      ed.fillTable();
    }

    function setTarget(code) {
      S.target = code && S.grids[code] ? code : null;
      if (S.target && S.community && (S.grids[S.target] || {}).community_code !== S.community) {
        ed.resetCommunity();
      }
      showTarget();
      ed.restyle();
      ed.fillTable();
      if (S.target) ed.scrollToRow(S.target);
    }

    function showTarget() {
      if (S.target) {
        var p = S.grids[S.target] || {};
        targetBox.textContent = gridNumber(S.target) + " " + (p.name || "");
        targetSwatch.style.background = ed.gridColour(S.target);
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
        else if (S.picked && ed.canWrite()) ed.moveTo(code); // the building picked first (its candidates shown)
        return;
      }
      if (S.mode === "swap") return;
      if (S.mode === "split" && hasGeoman && map.pm.globalDrawModeEnabled()) return; // a click of the line
      onGridPicked(code);
    }

    function onGridContext(e) {
      if (S.mode !== "paint") return;
      L.DomEvent.preventDefault(e.originalEvent);
      setTarget(e.target.feature.properties.code);
    }

    // split and merge: the buttons under the hint (draw the line, finish it, cancel the selection)
    function showSelectionActions() {
      var drawing = hasGeoman && map.pm.globalDrawModeEnabled();
      var picking = (S.mode === "split" || S.mode === "merge") && !!S.selected;
      splitActions.hidden = !(picking || drawing);
      splitDraw.hidden = !(S.mode === "split" && S.selected && !drawing);
      splitFinish.hidden = !(S.mode === "split" && drawing);
      // a phone's side panel scrolls (editor.css): the step's buttons into its view
      if (!splitActions.hidden && ed.isPhone && ed.isPhone() && splitActions.scrollIntoView) {
        splitActions.scrollIntoView({ block: "nearest" });
      }
    }

    // no grid selected any more (Esc, Cancel): a split line being drawn is dropped, Geoman's handles go
    function clearSelection() {
      stopDrawing();
      stopEditing();
      S.selected = null;
      showSelectionActions();
      ed.restyle();
      ed.fillTable();
    }

    function onGridPicked(code) {
      if (!ed.canWrite()) return;
      if (S.mode === "boundary") {
        S.selected = code;
        ed.restyle();
        startEditing(code);
        ed.setStatus("ok", "拖动 " + gridNumber(code) + " 的顶点 Drag the vertices of grid " + gridNumber(code));
      } else if (S.mode === "split") {
        if (Date.now() - S.drewAt < 600) return; // the last clicks of the double-click that ended a line
        if (hasGeoman && map.pm.globalDrawModeEnabled()) return; // drawing: clicks are the line's points
        // picking the grid is one step, drawing the next (a button): the click that picks is never a vertex
        S.selected = code;
        ed.restyle();
        ed.fillTable();
        showSelectionActions();
        ed.setStatus("ok", "已选网格 " + gridNumber(code) + "：点「画拆分线」，从网格外点起穿过它，双击结束 " +
          "Grid " + gridNumber(code) + " is selected: press 'Draw the line', then click from outside the grid " +
          "across it to outside; double-click ends");
      } else if (S.mode === "merge") {
        if (!S.selected || S.selected === code) {
          // a table row and then a map click on the same grid both pick it: a pick never deselects (Esc does)
          S.selected = code;
          ed.restyle();
          ed.fillTable();
          showSelectionActions();
          ed.setStatus("ok", "已选网格 " + gridNumber(code) + "，再点击一个相邻网格即合并 Grid " + gridNumber(code) +
            " is selected: now click a neighbour to merge them (Esc or Cancel drops the selection)");
          return;
        }
        var first = S.selected;
        S.selected = null;
        showSelectionActions();
        ed.restyle();
        ed.merge(first, code);
      }
    }

    /* ---------- paint: click or brush ---------- */

    function onBuildingDown(e) {
      if (S.mode === "swap" && ed.canWrite()) {
        var q = e.target.feature.properties;
        if (!e.originalEvent || e.originalEvent.button === undefined || e.originalEvent.button === 0) {
          L.DomEvent.stopPropagation(e);
          ed.onSwapPick(q.code);
        }
        return;
      }
      if (S.mode !== "paint" || !ed.canWrite()) return;
      var o = e.originalEvent;
      if (o && o.button !== undefined && o.button !== 0) return;
      var p = e.target.feature.properties;
      if (modifier(e)) {
        if (p.grid_code) setTarget(p.grid_code); // the eyedropper
        return;
      }
      if (!S.target) {
        // no target yet: the building is picked, and the grids it can move to are coloured (hints.js)
        ed.pickBuilding(p.code);
        return;
      }
      S.brushing = [p.code];
      map.dragging.disable(); // the drag paints instead of panning
      e.target.setStyle(ed.buildingStyle(e.target.feature));
      document.addEventListener("mouseup", onBrushUp, true);
    }

    function onBuildingOver(e) {
      if (!S.brushing) return;
      var code = e.target.feature.properties.code;
      if (S.brushing.indexOf(code) < 0) {
        S.brushing.push(code);
        e.target.setStyle(ed.buildingStyle(e.target.feature));
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
      ed.restyle();
      if (cancel || !S.target) return null;
      var target = S.target;
      var moving = codes.filter(function (c) { return (S.buildings[c] || {}).grid_code !== target; });
      if (!moving.length) {
        ed.setStatus("ok", "已在目标网格 Already in grid " + gridNumber(target));
        return null;
      }
      return ed.assignMany(moving, target);
    }

    /* ---------- boundary: Geoman's vertex editing ---------- */

    function startEditing(code) {
      stopEditing();
      var layer = S.gridLayers[code];
      if (!layer || !hasGeoman || !layer.pm) {
        if (!hasGeoman) ed.setStatus("error", "Leaflet-Geoman 未加载 is not loaded: boundary editing is unavailable");
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
      ed.reshape(code, layer.toGeoJSON(7).geometry, "adjust");
    }

    /* ---------- split: Geoman's line drawing ---------- */

    function startDrawing() {
      if (!hasGeoman) {
        ed.setStatus("error", "Leaflet-Geoman 未加载 is not loaded: drawing a split line is unavailable");
        return;
      }
      map.pm.enableDraw("Line", {
        snappable: true, snapDistance: 14, finishOn: "dblclick", continueDrawing: false,
        templineStyle: { color: "#0b5cad", weight: 3 }, hintlineStyle: { color: "#0b5cad", dashArray: "5 5" },
        pathOptions: { color: "#0b5cad", weight: 3 },
      });
      showSelectionActions();
      ed.setStatus("ok", "画线：从网格 " + gridNumber(S.selected) + " 外点起，穿过它到外面，双击结束 Draw: click from " +
        "outside grid " + gridNumber(S.selected) + " across it to outside; double-click ends");
    }

    function stopDrawing() {
      if (hasGeoman && map.pm.globalDrawModeEnabled()) map.pm.disableDraw();
      showSelectionActions();
    }

    if (hasGeoman) {
      map.pm.setGlobalOptions({ snappable: true, snapDistance: 14, allowSelfIntersection: false });
      map.on("pm:create", function (e) {
        if (e.shape !== "Line") return;
        S.drewAt = Date.now();
        var line = e.layer.toGeoJSON(7).geometry;
        map.removeLayer(e.layer);
        if (S.mode === "split" && S.selected) {
          var code = S.selected;
          S.selected = null;
          showSelectionActions();
          ed.split(code, line);
        } else showSelectionActions();
      });
    }

    splitDraw.addEventListener("click", function () {
      if (S.mode === "split" && S.selected && ed.canWrite()) startDrawing();
    });
    document.getElementById("gm-ed-split-finish").addEventListener("click", function () {
      var draw = hasGeoman && map.pm.Draw && map.pm.Draw.Line;
      if (draw && draw._enabled && typeof draw._finishShape === "function") draw._finishShape();
    });
    document.getElementById("gm-ed-split-cancel").addEventListener("click", clearSelection);

    ed.setMode = setMode;
    ed.setTarget = setTarget;
    ed.showTarget = showTarget;
    ed.onGridClick = onGridClick;
    ed.onGridContext = onGridContext;
    ed.onGridPicked = onGridPicked;
    ed.onBuildingDown = onBuildingDown;
    ed.onBuildingOver = onBuildingOver;
    ed.onBuildingContext = onBuildingContext;
    ed.endBrush = endBrush;
    ed.startEditing = startEditing;
    ed.stopEditing = stopEditing;
    ed.stopDrawing = stopDrawing;
    ed.startDrawing = startDrawing;
    ed.clearSelection = clearSelection;
  }

  M.modes = { install: install };
})();
