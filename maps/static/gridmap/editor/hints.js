/*
 * gridmap editor: guidance before a move or a swap. Part of the editor's scripts (see main.js):
 * window.gridmapEditorModules.hints = {install(ed)}, which gives the editor
 *  - ed.pickBuilding(code): paint mode with no target grid: the building is picked and
 *    GET /v1/plans/{id}/move-candidates?buildings=CODE colours its neighbouring grids: green, both grids stay
 *    in band and whole; grey, not (the reason in the grid's tooltip and in the hints box); a click on a
 *    grid then moves the building there (ed.moveTo(grid));
 *  - swap mode: ed.onSwapPick(code): the first building A (GET swap-candidates?building=A outlines the
 *    buildings of the neighbouring grids green / grey, the best swaps listed as buttons), then B, then a
 *    confirmation (the box under the hint) sends POST /v1/plans/{id}/swap {buildings: [A, B]}: one edit;
 *  - ed.candidateOf(grid), swapHintOf(building) (render.js styles and tooltips with them), ed.clearHints().
 * Everything from the API goes into the DOM with textContent.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});
  var el = C.el;
  var clear = C.clear;

  var REASON_LABELS = {
    households_band: "户数超出范围",
    population_band: "人口超出范围",
    non_contiguous: "会拆散网格",
    empty: "网格将无土地",
  };

  function install(ed) {
    var S = ed.S;
    var T = M.text;
    var gridNumber = T.gridNumber;
    var box = document.getElementById("gm-ed-hints");

    S.picked = null; // paint: the building(s) whose candidates are shown
    S.candidates = null; // grid code -> {ok, reasons, grids}
    S.swapA = null;
    S.swapB = null;
    S.swapHints = null; // building code -> {grid, ok, reasons, grids}
    S.swapList = [];
    var asked = 0; // the latest question: an older answer is dropped

    // "中文 — English" of the catalogue (geo/messages.py "hint.*"); an answer without detail_zh: the
    // kind's Chinese label, then the English
    function reasonText(r) {
      var text = r.detail_zh ? C.messageText(r) : (REASON_LABELS[r.kind] ? REASON_LABELS[r.kind] + " " : "") + r.detail;
      return text.replace(/\b\d{15}\b/g, gridNumber);
    }

    function reasonsText(o) {
      return o.ok ? "✓ 两个网格都在范围内且连通 both grids stay in band and whole" :
        "✗ " + o.reasons.map(reasonText).join("; ");
    }

    function outcomeLine(o) {
      return Object.keys(o.grids).map(function (code) {
        var g = o.grids[code];
        return gridNumber(code) + ": " + g.households_before + "→" + g.households_after + "户";
      }).join(" · ");
    }

    // the keyboard: the focus was on a button of the box, which is gone: back to the building picker (table.js)
    function focusBack(hadFocus) {
      if (hadFocus && (!document.activeElement || document.activeElement === document.body) && ed.focusBuildingPicker) {
        ed.focusBuildingPicker();
      }
    }

    function clearHints() {
      var hadFocus = box.contains(document.activeElement);
      asked += 1;
      S.picked = null;
      S.candidates = null;
      S.swapA = S.swapB = null;
      S.swapHints = null;
      S.swapList = [];
      clear(box);
      box.hidden = true;
      ed.restyle();
      focusBack(hadFocus);
    }

    function head(text) {
      box.appendChild(el("div", "gm-ed-hints-head", text));
    }

    function cancelButton() {
      var b = el("button", null, "取消 Cancel");
      b.type = "button";
      b.id = "gm-ed-hints-cancel";
      b.addEventListener("click", clearHints);
      return b;
    }

    /* ---------- paint: the move's candidates ---------- */

    function pickBuilding(code) {
      var mine = ++asked;
      S.swapA = S.swapB = null;
      S.swapHints = null;
      S.picked = [code];
      S.candidates = null;
      clear(box);
      box.hidden = false;
      var p = S.buildings[code] || {};
      head("楼栋 Building " + (p.address || code) + "：计算可移往的网格… Finding the grids it can move to…");
      ed.restyle();
      ed.setBusy(1);
      return ed.get("/plans/" + ed.planId + "/move-candidates", { buildings: code }).then(function (res) {
        ed.setBusy(-1);
        if (mine !== asked) return res;
        clear(box);
        if (!res.ok) {
          head("候选网格失败 Candidates failed: " + res.message);
          box.appendChild(cancelButton());
          return res;
        }
        S.candidates = {};
        (res.body.candidates || []).forEach(function (c) { S.candidates[c.grid] = c; });
        var ok = (res.body.candidates || []).filter(function (c) { return c.ok; });
        head("楼栋 " + (p.address || code) + "（" + gridNumber(p.grid_code || "") + "）可移往 can move to: " +
          (ok.length ? ok.length + " 个网格 grid(s) keep both in band (绿 green)" :
            "没有一个相邻网格能使两侧都在范围内 no neighbouring grid keeps both grids in band: 试试「交换 Swap」 try a swap"));
        var ul = el("ul", "gm-ed-hints-list");
        (res.body.candidates || []).forEach(function (c) {
          var li = el("li", c.ok ? "gm-ed-hint-ok" : "gm-ed-hint-no");
          li.setAttribute("data-grid", c.grid);
          li.appendChild(el("b", null, gridNumber(c.grid) + " "));
          li.appendChild(el("span", null, reasonsText(c) + " (" + outcomeLine(c) + ")"));
          if (ed.canWrite()) {
            var b = el("button", c.ok ? "gm-ed-primary" : null, "移到 Move to " + gridNumber(c.grid));
            b.type = "button";
            b.addEventListener("click", function () { moveTo(c.grid); });
            li.appendChild(b);
          }
          ul.appendChild(li);
        });
        box.appendChild(ul);
        box.appendChild(cancelButton());
        ed.restyle();
        ed.setStatus("ok", "点击一个网格即把楼栋移过去（绿色：两侧都在范围内且连通） Click a grid to move the " +
          "building there (green: both grids stay in band and whole)");
        return res;
      });
    }

    function moveTo(grid) {
      var codes = S.picked;
      if (!codes || !ed.canWrite()) return Promise.resolve(null);
      clearHints();
      return ed.assignMany(codes, grid);
    }

    /* ---------- swap ---------- */

    function onSwapPick(code) {
      if (!ed.canWrite()) return Promise.resolve(null);
      var p = S.buildings[code] || {};
      if (!p.grid_code) {
        ed.setStatus("warning", "楼栋不在任何网格 The building is in no grid: move it into one first (paint)");
        return Promise.resolve(null);
      }
      if (S.swapA && S.swapA !== code && S.swapHints) {
        if ((S.buildings[S.swapA] || {}).grid_code === p.grid_code) {
          ed.setStatus("warning", "同一网格的楼栋不能交换 Both buildings are in grid " + gridNumber(p.grid_code) +
            ": pick a building of a neighbouring grid (outlined)");
          return Promise.resolve(null);
        }
        S.swapB = code;
        showConfirm();
        ed.restyle();
        return Promise.resolve(null);
      }
      return askSwap(code);
    }

    function askSwap(code) {
      var mine = ++asked;
      S.picked = null;
      S.candidates = null;
      S.swapA = code;
      S.swapB = null;
      S.swapHints = null;
      S.swapList = [];
      clear(box);
      box.hidden = false;
      var p = S.buildings[code] || {};
      head("楼栋 A " + (p.address || code) + "：计算交换建议… Finding swaps…");
      ed.restyle();
      ed.setBusy(1);
      return ed.get("/plans/" + ed.planId + "/swap-candidates", { building: code }).then(function (res) {
        ed.setBusy(-1);
        if (mine !== asked) return res;
        clear(box);
        if (!res.ok) {
          head("交换建议失败 Swap hints failed: " + res.message);
          box.appendChild(cancelButton());
          return res;
        }
        S.swapHints = {};
        S.swapList = res.body.candidates || [];
        S.swapList.forEach(function (c) { S.swapHints[c.building] = c; });
        var ok = S.swapList.filter(function (c) { return c.ok; });
        head("A = " + (p.address || code) + "（" + gridNumber(p.grid_code) + "）。再点楼栋 B（绿框：交换后两侧都在范围内且连通） " +
          "Now click building B (outlined green: the swap keeps both grids in band and whole): " + ok.length +
          " 个可行 good swap(s)");
        var ul = el("ul", "gm-ed-hints-list");
        ok.slice(0, 5).forEach(function (c) {
          var q = S.buildings[c.building] || {};
          var li = el("li", "gm-ed-hint-ok");
          li.setAttribute("data-building", c.building);
          var b = el("button", "gm-ed-primary", "A ↔ " + (q.address || c.building) + " (" + gridNumber(c.grid) + ")");
          b.type = "button";
          b.addEventListener("click", function () { onSwapPick(c.building); });
          li.appendChild(b);
          li.appendChild(el("span", null, " " + outcomeLine(c)));
          ul.appendChild(li);
        });
        if (!ok.length) {
          ul.appendChild(el("li", "gm-ed-hint-no", "相邻网格中没有可行的交换 No swap with a building of a neighbouring " +
            "grid keeps both grids in band and whole"));
        }
        box.appendChild(ul);
        box.appendChild(cancelButton());
        ed.restyle();
        return res;
      });
    }

    function showConfirm() {
      var hadFocus = box.contains(document.activeElement);
      var a = S.swapA, b = S.swapB;
      var pa = S.buildings[a] || {}, pb = S.buildings[b] || {};
      var hint = S.swapHints && S.swapHints[b];
      clear(box);
      box.hidden = false;
      head("交换 Swap " + (pa.address || a) + "（" + gridNumber(pa.grid_code) + "） ↔ " + (pb.address || b) + "（" +
        gridNumber(pb.grid_code) + "）?");
      if (hint) {
        box.appendChild(el("div", hint.ok ? "gm-ed-hint-ok" : "gm-ed-hint-no", reasonsText(hint) + " (" +
          outcomeLine(hint) + ")"));
      } else {
        box.appendChild(el("div", "gm-ed-hint-no", "B 不在 A 相邻的网格中 B is not in a grid next to A's: " +
          "the swap may split a grid (the server checks)"));
      }
      var row = el("div", "gm-ed-hints-actions");
      var go = el("button", "gm-ed-primary", "确认交换 Swap");
      go.type = "button";
      go.id = "gm-ed-swap-confirm";
      go.addEventListener("click", function () { swap(a, b); });
      row.appendChild(go);
      row.appendChild(cancelButton());
      box.appendChild(row);
      if (hadFocus) go.focus();
      ed.setStatus("ok", "确认交换？ Confirm the swap (one edit, one undo step)");
    }

    function swap(a, b) {
      clearHints();
      var pa = S.buildings[a] || {}, pb = S.buildings[b] || {};
      return ed.write("POST", "/swap", { buildings: [a, b] }, "交换 Swap " + (pa.address || a) + " ↔ " +
        (pb.address || b));
    }

    ed.pickBuilding = pickBuilding;
    ed.moveTo = moveTo;
    ed.onSwapPick = onSwapPick;
    ed.swap = swap;
    ed.clearHints = clearHints;
    ed.candidateOf = function (grid) { return S.candidates ? S.candidates[grid] || null : null; };
    ed.swapHintOf = function (building) { return S.swapHints ? S.swapHints[building] || null : null; };
    ed.reasonsText = reasonsText;
  }

  M.hints = { install: install };
})();
