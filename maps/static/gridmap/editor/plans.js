/*
 * gridmap editor's start page (/maps/editor): the plans, and "new draft from published" (POST /v1/plans,
 * then the new draft opens in the editor). Loaded by maps/editor.py's plans_page after common.js and
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

  C.start(function () {
    var plans = document.getElementById(PLANS_ID);
    if (!plans) return false;
    initPlans(plans);
    return true;
  }, "gridmap editor: no plans list (#" + PLANS_ID + ") here");
})();
