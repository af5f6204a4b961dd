/*
 * gridmap editor: the page and the server's plan in step. Part of the editor's scripts (see main.js):
 * window.gridmapEditorModules.sync = {install(ed)}, which gives the editor
 *  - ed.get(path, params); ed.reload(): GET the plan, its grids, buildings, validation, edits (and the
 *    diff when shown), then redraw everything; -> a Promise of the failures' texts;
 *  - ed.write(method, path, body, what): one write at a time, each with the version the previous one left
 *    (If-Match), then a reload; 409 stale_version: the server's message, then a reload;
 *  - the writes ed.assign, assignMany, reshape, split, merge, undo, redo, publish.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});
  var request = M.api.request;

  function install(ed) {
    var S = ed.S;
    var T = M.text;
    var gridNumber = T.gridNumber;
    var planId = ed.planId;

    /* ---------- loading ---------- */

    function get(path, params) {
      return request(ed.apiBase, "GET", path, { params: params });
    }

    // a draft against the published plan (the API's default); a published or retired plan against the
    // plan it was drawn from
    function diffParams() {
      return !ed.isDraft() && S.plan.parent_id ? { against: S.plan.parent_id } : undefined;
    }

    var reloadSeq = 0;
    function reload() {
      var mine = ++reloadSeq;
      S.loading = true;
      ed.setBusy(1);
      var base = "/plans/" + planId;
      return Promise.all([
        get(base), get(base + "/grids", ed.scoped()), get("/buildings", ed.scoped({ plan: planId })),
        get(base + "/validation", ed.scoped()),
        get(base + "/edits"), S.diffOn ? get(base + "/diff", diffParams()) : Promise.resolve(null),
      ]).then(function (r) {
        if (mine !== reloadSeq) return false; // a newer reload is on its way
        var failures = [];
        if (r[0].ok) ed.setPlan(r[0].body);
        else failures.push("plan: " + r[0].message);
        if (r[1].ok) ed.drawGrids(r[1].body);
        else failures.push("grids: " + r[1].message);
        if (r[2].ok) ed.updateBuildings(r[2].body);
        else failures.push("buildings: " + r[2].message);
        if (r[3].ok && r[3].body) {
          var v = r[3].body;
          S.metrics = {};
          (v.metrics || []).forEach(function (m) { S.metrics[m.code] = m; });
          S.problems = v.problems || [];
          S.valid = v.valid;
          S.publishable = v.publishable;
          S.validationError = null;
          if (v.bands) ed.bands = v.bands;
          if (v.plan) ed.setPlan(v.plan);
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
        ed.fillCommunities();
        ed.fillTable();
        ed.drawLabels();
        ed.drawProblems();
        ed.drawDiff();
        ed.drawEdits();
        ed.restyle();
        ed.showTarget();
        if (S.mode === "boundary" && S.selected) ed.startEditing(S.selected);
        S.reloads += 1;
        S.loadError = failures.length ? failures.join("; ") : null;
        return failures;
      }).then(function (result) {
        if (mine === reloadSeq) S.loading = false;
        ed.setBusy(-1);
        return result;
      }, function (err) {
        if (mine === reloadSeq) S.loading = false;
        ed.setBusy(-1);
        S.loadError = C.errorText(err);
        return [S.loadError];
      });
    }

    /* ---------- writes ---------- */

    var chain = Promise.resolve();

    // one write at a time, each with the version the previous one left
    function write(method, path, body, what, opts) {
      opts = opts || {};
      var run = function () {
        if (ed.clearHints && (S.candidates || S.swapHints || S.picked)) ed.clearHints(); // they answer the old plan
        ed.setBusy(1);
        ed.setStatus("loading", what + "…");
        return request(ed.apiBase, method, "/plans/" + planId + path, { body: body, version: S.version })
          .then(function (res) {
            S.lastResult = res;
            if (res.ok) {
              if (res.body && res.body.plan) ed.setPlan(res.body.plan);
              if (opts.reload === false) return res;
              return reload().then(function () {
                ed.setStatus("ok", describe(what, res.body));
                return res;
              });
            }
            return failed(res, what);
          })
          .then(function (res) {
            ed.setBusy(-1);
            return res;
          }, function (err) {
            ed.setBusy(-1);
            ed.setStatus("error", what + " 失败 failed: " + C.errorText(err));
            return { ok: false, status: 0, code: "script", message: C.errorText(err), body: null };
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
        (body.also_changed || []).forEach(function (a) {
          parts.push("另变化 also changed " + gridNumber(a.grid) + "：" + a.why.replace(/\b\d{15}\b/g, gridNumber));
        });
      }
      return parts.join(" · ");
    }

    function failed(res, what) {
      if (res.code === "stale_version") {
        // someone else edited the draft: say who and what (the server's message), then catch up
        ed.setStatus("stale", "版本冲突 Version conflict — " + res.message);
        return reload().then(function () { return res; });
      }
      if (res.status === 403) {
        ed.setStatus("forbidden", "无权修改 Not allowed (" + what + "): " + res.message);
      } else if (res.status === 401) {
        ed.setStatus("forbidden", "请重新登录 Sign in again: " + res.message);
      } else if (res.code === "not_a_draft") {
        ed.setStatus("error", "只读 Read-only: " + res.message);
      } else {
        ed.setStatus("error", what + " 失败 failed (" + res.status + (res.code ? " " + res.code : "") + "): " +
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
      geometry = M.geometry.cleanGeometry(geometry);
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
      ed.hidePublishProblems();
      return write("POST", "/publish", { acknowledge_warnings: acknowledge }, "发布 Publish").then(function (res) {
        if (res.ok) {
          S.pendingWarnings = null;
          ed.setStatus("ok", "已发布 Published: 方案 plan #" + planId + " 现在生效，查询约一秒内切换 " +
            "is now in force; lookups switch within about a second");
          return res;
        }
        var problems = (res.details && res.details.problems) || [];
        if (res.code === "warnings_not_acknowledged") {
          S.pendingWarnings = problems;
          ed.showPublishProblems(problems, true);
          ed.setStatus("warning", "有 " + problems.length + " 条范围警告，需确认后发布 " + problems.length +
            " band warning(s): acknowledge them to publish");
        } else if (res.code === "plan_invalid") {
          S.pendingWarnings = null;
          ed.showPublishProblems(problems, false);
          ed.setStatus("error", "方案有错误，不能发布 The plan has errors and cannot be published: " + res.message);
        }
        return res;
      });
    }

    ed.get = get;
    ed.diffParams = diffParams;
    ed.reload = reload;
    ed.write = write;
    ed.assign = assign;
    ed.assignMany = assignMany;
    ed.reshape = reshape;
    ed.split = split;
    ed.merge = merge;
    ed.undo = undo;
    ed.redo = redo;
    ed.publish = publish;
  }

  M.sync = { install: install };
})();
