/*
 * gridmap editor's start page (/maps/editor): the plans, "new draft from published" (POST /v1/plans,
 * then the new draft opens in the editor) and each draft's delete button (a confirmation, then
 * DELETE /v1/plans/{id} with If-Match the version the list shows). Loaded by maps/editor.py's plans_page after common.js and
 * editor/api.js (window.gridmapEditorModules.api.request).
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var M = window.gridmapEditorModules;
  var PLANS_ID = "gm-editor-plans";

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
      C.setStatus(status, "loading", "新建草稿中 Creating a draft…");
      M.api.request(apiBase, "POST", "/plans", { body: body }).then(function (res) {
        var plan = res.body && (res.body.plan || res.body);
        if (res.ok && plan && plan.id !== undefined) {
          C.setStatus(status, "ok", "已新建草稿 Draft #" + plan.id + " created; opening it…");
          window.location.assign("/maps/editor?plan=" + encodeURIComponent(plan.id));
          return;
        }
        button.disabled = false;
        C.setStatus(status, "error", (res.status === 403 ? "无权新建 Not allowed: " : "新建失败 Failed: ") + res.message);
      });
    });
  }

  // a draft's delete button: a confirmation (<dialog>), then DELETE /v1/plans/{id} with If-Match the version
  // the list shows; the row goes, or the API's reason stays on the page (409 plan_in_use names what refers
  // to the draft; 409 stale_version names who edited it since the list was loaded: the row then shows the
  // new version, and a second delete, after reading who changed what, deletes that one)
  function initDelete(root) {
    var apiBase = C.apiBase(root);
    var dialog = document.getElementById("gm-ed-delete-dialog");
    var status = document.getElementById("gm-ed-new-status");
    var pending = null;
    if (!dialog) return;
    dialog.addEventListener("close", function () {
      var button = pending;
      pending = null;
      if (dialog.returnValue !== "delete" || !button) return;
      dialog.returnValue = "";
      var id = button.getAttribute("data-plan");
      button.disabled = true;
      C.setStatus(status, "loading", "删除中 Deleting draft #" + id + "…");
      var opts = { version: button.getAttribute("data-version") || null };  // sent as If-Match
      M.api.request(apiBase, "DELETE", "/plans/" + encodeURIComponent(id), opts).then(function (res) {
        var row = button.closest("tr");
        if (res.ok) {
          if (row) row.parentNode.removeChild(row);
          var newest = document.getElementById("gm-ed-newest");
          if (newest && newest.getAttribute("href") === "/maps/editor?plan=" + id) {
            newest.parentNode.parentNode.removeChild(newest.parentNode);
          }
          C.setStatus(status, "ok", "已删除草稿 Draft #" + id + " deleted");
          return;
        }
        button.disabled = false;
        var current = res.code === "stale_version" && res.details ? res.details.current_version : null;
        if (current !== null && current !== undefined) {
          button.setAttribute("data-version", String(current));
          var cell = row ? row.querySelector(".gm-ed-plan-version") : null;
          if (cell) cell.textContent = "v" + current;
        }
        C.setStatus(status, "error", (res.status === 403 ? "无权删除 Not allowed: " : "未删除 Not deleted: ") +
          res.message);
      });
    });
    root.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("button.gm-ed-delete") : null;
      if (!button || button.disabled) return;
      pending = button;
      Array.prototype.forEach.call(dialog.querySelectorAll(".gm-ed-dialog-name"), function (n) {
        n.textContent = button.getAttribute("data-name") + " (#" + button.getAttribute("data-plan") + ")";
      });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  C.start(function () {
    var plans = document.getElementById(PLANS_ID);
    if (!plans) return false;
    initPlans(plans);
    initDelete(plans);
    return true;
  }, "gridmap editor: no plans list (#" + PLANS_ID + ") here");
})();
