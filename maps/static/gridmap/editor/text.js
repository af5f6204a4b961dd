/*
 * gridmap editor: its words and number texts (no state, no DOM). Part of the editor's scripts (see main.js):
 * window.gridmapEditorModules.text = {KIND_LABELS, OP_LABELS, STATUS_LABELS, signed, gridNumber}.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});

  // the validation's problem kinds
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

  // the edit history's operations
  var OP_LABELS = {
    assign: "移楼 assign", reshape: "改边界 reshape", boundary: "改边界 boundary", split: "拆分 split",
    merge: "合并 merge", swap: "交换 swap", add: "新增网格 add grid", remove: "删除网格 remove grid", undo: "撤销 undo", redo: "重做 redo", import: "导入 import", publish: "发布 publish",
  };

  // a plan's status
  var STATUS_LABELS = { draft: "草稿 draft", published: "已发布 published", retired: "已停用 retired" };

  // 12 -> "+12", -1234 -> "−1,234", 0 -> "0"; "–" when n is no finite number
  function signed(n) {
    if (!C.isNum(n)) return "–";
    if (n === 0) return "0";
    return (n > 0 ? "+" : "−") + C.grouped(Math.abs(n));
  }

  // 140214101003002 -> "3-002" (community 3 of the town, grid 002); other codes as they are
  function gridNumber(code) {
    var s = String(code);
    return /^\d{15}$/.test(s) ? Number(s.slice(9, 12)) + "-" + s.slice(-3) : s;
  }

  M.text = {
    KIND_LABELS: KIND_LABELS,
    OP_LABELS: OP_LABELS,
    STATUS_LABELS: STATUS_LABELS,
    signed: signed,
    gridNumber: gridNumber,
  };
})();
