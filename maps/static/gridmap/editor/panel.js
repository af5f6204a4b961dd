/*
 * gridmap editor: the side panel (#gm-editor) beyond the toolbar. Part of the editor's scripts (see
 * main.js): window.gridmapEditorModules.panel = {install(ed)}, which gives the editor
 *  - ed.setPlan(plan): the plan's name, status and version (read-only unless a draft);
 *  - ed.drawProblems(): the validation's problems on the map and in the list;
 *  - ed.drawDiff(), showDiff(on): the diff against the published (or parent) plan, areas and summary;
 *  - ed.drawEdits(): the last edits;
 *  - ed.showPublishProblems(problems, acknowledgeable), hidePublishProblems(): the publish box.
 * Everything from the API is written with textContent.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});
  var el = C.el;
  var clear = C.clear;

  function install(ed) {
    var S = ed.S;
    var layers = ed.layers;
    var T = M.text;
    var gridNumber = T.gridNumber;
    var KIND_LABELS = T.KIND_LABELS;

    var versionBox = document.getElementById("gm-ed-plan-version");
    var planStatusBox = document.getElementById("gm-ed-plan-status");
    var planNameBox = document.getElementById("gm-ed-plan-name");
    var publishBox = document.getElementById("gm-ed-publish-box");
    var problemList = document.getElementById("gm-ed-problems");
    var problemCount = document.getElementById("gm-ed-problem-count");
    var diffBox = document.getElementById("gm-ed-diff-summary");
    var diffToggle = document.getElementById("gm-ed-diff");
    var editList = document.getElementById("gm-ed-edits");

    /* ---------- the plan ---------- */

    function setPlan(plan) {
      if (!plan || plan.id !== ed.planId) return;
      S.plan = plan;
      if (C.isNum(plan.version)) S.version = plan.version;
      versionBox.textContent = String(S.version);
      planStatusBox.textContent = T.STATUS_LABELS[plan.status] || plan.status;
      if (plan.name) planNameBox.textContent = plan.name;
      ed.panel.classList.toggle("gm-ed-readonly", !ed.canWrite());
      ed.modeButtons.concat(ed.writeButtons).forEach(function (b) { b.disabled = !ed.canWrite(); });
    }

    /* ---------- problems ---------- */

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
            layer = ed.problemLayer(problem);
            layers.problems.addLayer(layer);
          } catch (e) {
            layer = null;
          }
        }
        var li = el("li", "gm-ed-problem-item gm-ed-" + problem.severity);
        li.setAttribute("data-kind", problem.kind);
        li.appendChild(el("span", "gm-ed-problem-kind", (problem.severity === "error" ? "错误 " : "警告 ") +
          (KIND_LABELS[problem.kind] || problem.kind)));
        li.appendChild(el("span", "gm-ed-problem-detail", C.messageText(problem)));
        li.tabIndex = 0;
        var show = function () {
          var bounds = layer && layer.getBounds ? layer.getBounds() : null;
          if ((!bounds || !bounds.isValid()) && (problem.grids || []).length && S.gridLayers[problem.grids[0]]) {
            bounds = S.gridLayers[problem.grids[0]].getBounds();
          }
          if (bounds && bounds.isValid()) ed.fitTo(bounds, 18);
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
        problemList.appendChild(el("li", "gm-ed-problem-none", ed.isDraft() ? "无问题，可以发布 No problems: ready to publish"
          : "无问题 No problems"));
      }
    }

    /* ---------- edits ---------- */

    function drawEdits() {
      clear(editList);
      S.edits.slice(-8).reverse().forEach(function (e) {
        var li = el("li", e.undone ? "gm-ed-edit gm-ed-undone" : "gm-ed-edit");
        var when = e.at ? String(e.at).slice(11, 19) : "";
        li.appendChild(el("span", "gm-ed-edit-op", (T.OP_LABELS[e.op] || e.op) + " " +
          (e.grids || []).map(gridNumber).join(", ")));
        li.appendChild(el("span", "gm-ed-edit-who", (e.actor || "") + " " + when + (e.undone ? " · 已撤销 undone" : "")));
        editList.appendChild(li);
      });
    }

    /* ---------- the diff ---------- */

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
        " 栋楼移动 buildings moved · " + C.grouped(d.households_moved || 0) + " 户 households moved"));
      var ul = el("ul", "gm-ed-diff-list");
      (d.buildings_moved || []).slice(0, 12).forEach(function (b) {
        ul.appendChild(el("li", null, (b.address || b.code) + ": " + gridNumber(b.from) + " → " + gridNumber(b.to) +
          " (" + C.grouped(b.households) + " 户)"));
      });
      diffBox.appendChild(ul);
    }

    function showDiff(on) {
      S.diffOn = !!on;
      diffToggle.checked = S.diffOn;
      S.diff = null;
      if (!S.diffOn) {
        drawDiff();
        ed.restyle();
        return Promise.resolve(null);
      }
      drawDiff();
      return ed.get("/plans/" + ed.planId + "/diff", ed.diffParams()).then(function (res) {
        if (!S.diffOn) return res;
        if (res.ok) S.diff = res.body;
        else ed.setStatus("error", "差异 Diff 失败 failed: " + res.message);
        drawDiff();
        ed.restyle();
        return res;
      });
    }

    diffToggle.addEventListener("change", function () { showDiff(diffToggle.checked); });

    /* ---------- publishing ---------- */

    // the confirmation before publishing (<dialog>, maps/editor.py): "publish" sends it, Esc or Cancel nothing
    var publishDialog = document.getElementById("gm-ed-publish-dialog");
    if (publishDialog) {
      // in document.body, not in the Leaflet control: nothing of the map's handles its clicks or keys
      document.body.appendChild(publishDialog);
      publishDialog.addEventListener("close", function () {
        if (publishDialog.returnValue === "publish") ed.publish({ acknowledge: false });
        publishDialog.returnValue = "";
      });
    }

    function confirmPublish() {
      if (!ed.canWrite()) return false;
      if (!publishDialog || typeof publishDialog.showModal !== "function") {
        ed.publish({ acknowledge: false });
        return true;
      }
      Array.prototype.forEach.call(publishDialog.querySelectorAll(".gm-ed-dialog-name"), function (n) {
        n.textContent = S.plan.name || "#" + S.plan.id;
      });
      publishDialog.returnValue = "";
      publishDialog.showModal();
      return true;
    }

    function hidePublishProblems() {
      publishBox.hidden = true;
      clear(publishBox);
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
          (KIND_LABELS[p.kind] || p.kind) + ": " + C.messageText(p)));
      });
      publishBox.appendChild(ol);
      if (acknowledgeable) {
        var row = el("div", "gm-ed-publish-actions");
        var confirm = el("button", "gm-ed-primary gm-ed-danger",
          "确认 " + problems.length + " 条范围警告并发布 Acknowledge " + problems.length +
          " band warning" + (problems.length === 1 ? "" : "s") + " and publish");
        confirm.type = "button";
        confirm.id = "gm-ed-publish-ack";
        confirm.addEventListener("click", function () { ed.publish({ acknowledge: true }); });
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

    ed.setPlan = setPlan;
    ed.drawProblems = drawProblems;
    ed.drawEdits = drawEdits;
    ed.drawDiff = drawDiff;
    ed.showDiff = showDiff;
    ed.hidePublishProblems = hidePublishProblems;
    ed.confirmPublish = confirmPublish;
    ed.showPublishProblems = showPublishProblems;
  }

  M.panel = { install: install };
})();
