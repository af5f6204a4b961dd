"""The one message catalogue: every message a person reads on the pages, in Chinese and in English.

:data:`MESSAGES` maps a message id to ``(zh, en)`` templates with the same named fields
(``str.format`` fields: ``{grid}``, ``{role!r}``, ``{x:.6f}``). Domain errors carry an id and their
fields (:meth:`geo.errors.GridmapError.say`), so the API's error envelope keeps its English
``message`` and adds ``message_zh``; plan problems and geometry problems carry theirs too; labels
(incident categories, hot-spot classes) are entries here and are written "中文 English".

Pure Python: no web framework, no database (tests/geo/test_messages.py walks the catalogue).

Examples
--------
>>> zh("lookup.no_match", q="某某")
"没有楼栋与 '某某' 匹配：请写出社区和楼号，例如 春安新区3号楼2单元"
>>> label("hotspot.hot_99")
'显著热点 99 % significant hot spot'
>>> both("auth.session_ended")
'地图会话已过期或已结束：请在 /maps/login 重新登录 — the map session has expired or ended: sign in again at /maps/login'
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from geo.vocabulary import INCIDENT_CATEGORIES

__all__ = ["MESSAGES", "REQUEST_ERROR_ALIASES", "SEPARATOR", "Joined", "Msg", "Said", "both", "category_label", "en",
           "fields_of", "label", "labels", "zh"]

#: Between the Chinese and the English of a message ("zh — en"); labels use a space.
SEPARATOR = " — "

_SUBCATEGORIES = {
    "neighbour": ("邻里", "neighbour"), "family": ("家庭", "family"), "property": ("物业", "property"),
    "fire": ("消防", "fire"), "gas": ("燃气", "gas"), "electrical": ("用电", "electrical"),
    "structural": ("房屋结构", "structural"), "noise": ("噪音", "noise"), "parking": ("停车", "parking"),
    "sanitation": ("卫生", "sanitation"), "lighting": ("照明", "lighting"), "lift": ("电梯", "lift"),
    "water": ("供水", "water"), "other": ("其他", "other"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    # ---- signing in, keys and roles (maps/login, 401/403 details the pages show)
    "auth.unknown_key": (
        "API 密钥无效或已撤销：请向管理员申请密钥（`gridmap keys create`）",
        "the API key is unknown or revoked: ask an admin for a key (`gridmap keys create`)"),
    "auth.session_ended": (
        "地图会话已过期或已结束：请在 /maps/login 重新登录",
        "the map session has expired or ended: sign in again at /maps/login"),
    "auth.key_required": (
        "需要 API 密钥：请发送 'Authorization: Bearer <key>'（`gridmap keys create --role ROLE`）",
        "this needs an API key: send 'Authorization: Bearer <key>' (`gridmap keys create --role ROLE`)"),
    "auth.bad_basic": (
        "Basic 凭据不是 'user:key' 的 base64：用户名任意，密码填 API 密钥（或发送 'Authorization: Bearer <key>'）",
        "the Basic credentials are not base64 of 'user:key': give any user name and the API key as the "
        "password (or send 'Authorization: Bearer <key>')"),
    "auth.role_too_low": (
        "{role!r} 密钥无权执行此操作：需要 {needs!r} 或更高角色",
        "a {role!r} key cannot do this: it needs the {needs!r} role or above"),
    "maps.page_refused": (
        "{role!r} 密钥不能打开 {page}：它只能打开查询页面 /maps/lookup",
        "a {role!r} key cannot open {page}: it may open only the lookup page /maps/lookup"),
    "maps.refused_title": ("无权打开此页面", "Not allowed to open this page"),
    # ---- lookups (geo/lookup, geo/address, api/routes/lookup.py)
    "lookup.outside_grids": (
        "({x:.6f}, {y:.6f}) 不在方案 {plan}（{name}）的任何网格内；网格只覆盖本镇各社区 — 请检查该点及其坐标系",
        "({x:.6f}, {y:.6f}) lies in no grid of plan {plan} ({name}); the grids cover the town's communities "
        "only — check the point and its crs"),
    "lookup.no_grid_named": (
        "方案 {plan} 中没有名为 {q!r} 的网格：请按地图上的写法输入网格名称（例如 宁丰社区第4网格）或 15 位网格编码",
        "no grid of plan {plan} is named {q!r}; give a grid's name as the map shows it (e.g. 宁丰社区第4网格) "
        "or its 15-digit code"),
    "lookup.no_match_score": (
        "没有楼栋与 {q!r} 足够匹配（最高分 {best:.0f} < {threshold:.0f}）：请写出社区和楼号，例如 春安新区3号楼2单元",
        "no building matches {q!r} well enough (best score {best:.0f} < {threshold:.0f}); give the community "
        "and the building number, e.g. 春安新区3号楼2单元"),
    "lookup.no_match": (
        "没有楼栋与 {q!r} 匹配：请写出社区和楼号，例如 春安新区3号楼2单元",
        "no building matches {q!r}; give the community and the building number, e.g. 春安新区3号楼2单元"),
    "lookup.no_plan_published": (
        "尚未发布任何方案：请加载数据（`gridmap demo load`）或发布一个方案",
        "no plan is published yet: load data (`gridmap demo load`) or publish a plan"),
    "lookup.no_plan_at": (
        "{when} 时没有已发布的方案：第一个方案发布得更晚",
        "no plan was published at {when}: the first plan was published later"),
    # ---- plan validation problems (geo/plan_checks.py: what the editor lists)
    "plan.invalid_geometry": (
        "网格 {grid} 的边界几何无效：{reason}",
        "grid {grid}: {reason}"),
    "plan.no_area": ("该网格没有面积", "the grid has no area"),
    "plan.not_polygonal": (
        "网格必须是 Polygon 或 MultiPolygon，而不是 {type}",
        "a grid must be a Polygon or MultiPolygon, not a {type}"),
    "plan.outside_community": (
        "网格 {grid} 有 {area} 位于社区 {community} 之外：请将其裁剪到社区内",
        "{area} of grid {grid} lies outside community {community}; clip it to the community"),
    "plan.overlap": (
        "网格 {a} 与 {b} 重叠 {area}：一个地点只能属于一个网格",
        "grids {a} and {b} overlap by {area}; a place must be in one grid only"),
    "plan.gap": (
        "社区 {community} 有 {area} 不属于任何网格：请划给相邻网格",
        "{area} of community {community} is in no grid; give it to a neighbouring grid"),
    "plan.building_split": (
        "楼栋 {building} 被网格 {codes} 分割（{area} 在网格 {main} 之外）：每栋楼须完整属于一个网格",
        "building {building} is split between grids {codes} ({area} outside grid {main}); keep every building "
        "in one grid"),
    "plan.non_contiguous": (
        "网格 {grid} 分成 {parts} 块（{area} 与主体分离）：请连接它们，或把分离部分划给相邻网格",
        "grid {grid} is in {parts} separate parts ({area} apart from the main part); join them or give the "
        "detached parts to their neighbours"),
    "plan.households_band": (
        "网格 {grid} 有 {value} 户，{side}范围 {low}–{high} {off} 户",
        "grid {grid} has {value} households, {off} {side} the band {low}–{high}"),
    "plan.above": ("高于", "above"),
    "plan.below": ("低于", "below"),
    "plan.population_band": (
        "网格 {grid} 有 {value} 人，{side}范围 {low}–{high} {off} 人",
        "grid {grid} has {value} population, {off} {side} the band {low}–{high}"),
    # ---- the plan workflow (geo/plans.py): versions, drafts, publishing (the editor's 409/412/428 messages)
    "plan.status.draft": ("草稿", "draft"),
    "plan.status.published": ("已发布", "published"),
    "plan.status.retired": ("已停用", "retired"),
    "plan.version_required": (
        "请说明此修改基于方案的哪个版本：发送请求头 If-Match: \"<version>\"（即 GET /v1/plans/{{id}} 返回的 ETag）",
        "say which plan version this edit was made against: send the header If-Match: \"<version>\" "
        "(the plan's ETag from GET /v1/plans/{{id}})"),
    "plan.version_required_publish": (
        "请说明你校验的是方案的哪个版本：发送 If-Match: \"<version>\"（即 GET /v1/plans/{{id}} 返回的 ETag）",
        "say which plan version you validated: send If-Match: \"<version>\" (the ETag of GET /v1/plans/{{id}})"),
    "plan.stale_version": (
        "方案 {plan} 当前为版本 {current}，而不是 {sent}{who}：请重新加载方案后再做一次修改",
        "plan {plan} is at version {current}, not {sent}{who}; reload the plan and redo your change"),
    "plan.version_required_delete": (
        "请说明要删除的是方案的哪个版本：发送 If-Match: \"<version>\"（即 GET /v1/plans/{{id}} 或草稿列表给出的版本），"
        "以免删掉别人在你查看之后又修改过的草稿",
        "say which plan version you are deleting: send If-Match: \"<version>\" (the ETag of GET /v1/plans/{{id}}, "
        "the version the plans list shows), so that a draft somebody edited since you looked is not deleted unseen"),
    "plan.stale_version_delete": (
        "方案 {plan} 当前为版本 {current}，而不是 {sent}{who}：未删除。请重新加载方案，看过这次修改后如仍要删除，再删除一次",
        "plan {plan} is at version {current}, not {sent}{who}; it was not deleted: reload the plan, look at the "
        "change and delete it again if you still mean to"),
    "plan.stale_made": (
        "：{actor} 于 {at} 做了 '{op}'（{grids}）",
        ": {actor} made '{op}' ({grids}) at {at}"),
    "plan.stale_undid": (
        "：{actor} 于 {at} 撤销了 '{op}'（{grids}）",
        ": {actor} undid '{op}' ({grids}) at {at}"),
    "plan.no_grids": ("没有网格", "no grids"),
    "plan.not_a_draft_edit": (
        "方案 {plan} 是{status}方案；只能编辑草稿：POST /v1/plans 并带上 {{\"source\": {plan}}} 可复制出一份草稿",
        "plan {plan} is {status}; only drafts are edited: POST /v1/plans with {{\"source\": {plan}}} makes a draft copy"),
    "plan.not_a_draft_delete": (
        "方案 {plan} 是{status}方案，不是草稿；只能删除草稿（已发布或已停用的方案是曾经生效的网格的记录）",
        "plan {plan} is {status}, not a draft; only drafts are deleted (a published or retired plan is the record "
        "of the grids that were in force)"),
    "plan.not_a_draft_publish": (
        "方案 {plan} 是{status}方案；只能发布草稿（请先把它复制为新草稿）",
        "plan {plan} is {status}; only a draft can be published (copy it into a new draft first)"),
    "plan.in_use": (
        "草稿 {plan} 被{named}引用，因此保留。请先删除从它复制的草稿；被事件引用的草稿会一直保留",
        "draft {plan} is referred to by {named}; it is kept. Delete the drafts copied from it first; a draft that "
        "incidents refer to stays"),
    "plan.in_use_plans": ("从它复制的方案 {plans}（以它为来源）", "plan(s) {plans} copied from it (their source)"),
    "plan.in_use_incidents": ("位于其网格中的 {n} 起事件（incident.plan_id）",
                              "{n} incident(s) placed in its grids (incident.plan_id)"),
    "plan.and": ("和", " and "),
    "plan.invalid": (
        "方案 {plan} 有 {n} 个问题须在发布前修正：{summary}",
        "plan {plan} has {n} problem(s) to fix before publishing: {summary}"),
    "plan.warnings_not_acknowledged": (
        "方案 {plan} 有 {n} 条范围警告：{summary}；发布时带上 {{\"acknowledge_warnings\": true}} 即表示接受这些警告",
        "plan {plan} has {n} band warning(s): {summary}; publish with {{\"acknowledge_warnings\": true}} to accept them"),
    "plan.and_more": ("；另有 {n} 条", "; and {n} more"),
    "plan.nothing_to_undo": ("方案 {plan} 没有可撤销的修改", "plan {plan} has no edit to undo"),
    "plan.nothing_to_redo": ("方案 {plan} 没有可重做的修改", "plan {plan} has nothing to redo"),
    # ---- edits the editor makes (geo/plan_edits.py, geo/partition.py): what a refused edit says
    "edit.no_area": ("此修改会使某个网格没有面积：请改为合并", "the edit would leave a grid without any area; merge it instead"),
    "edit.grid_no_area": ("此修改会使网格 {grid} 没有面积：请改为合并",
                          "the edit would leave grid {grid} without any area; merge it instead"),
    "edit.assign_other_community": (
        "楼栋 {building} 与网格 {grid} 属于不同社区；楼栋只能移到本社区的网格",
        "building {building} and grid {grid} are in different communities; a building can only move to a grid of "
        "its own community"),
    "edit.swap_two_buildings": ("交换需要恰好两栋不同的楼：{{\"buildings\": [\"A\", \"B\"]}}",
                                "a swap takes exactly two different buildings: {{\"buildings\": [\"A\", \"B\"]}}"),
    # what a move or a swap would do (geo.moves; the editor's candidate colours and swap hints)
    "hint.empty": ("会使网格 {grid} 没有土地", "would leave grid {grid} without land"),
    "hint.non_contiguous": ("会把网格 {grid} 分成 {parts} 块", "would split grid {grid} into {parts} parts"),
    "hint.households_band": ("超出范围：网格 {grid} 将有 {n} 户 {op} {limit}",
                             "out of band: grid {grid} would have {n} households {op} {limit}"),
    "hint.population_band": ("超出范围：网格 {grid} 将有 {n} 人 {op} {limit}",
                             "out of band: grid {grid} would have {n} population {op} {limit}"),
    "edit.swap_other_community": (
        "楼栋 {a} 与 {b} 属于不同社区；交换只在同一社区的两个网格之间进行",
        "buildings {a} and {b} are in different communities; a swap is between two grids of one community"),
    "edit.swap_no_grid": ("楼栋 {building} 不属于任何网格：请先把它移入一个网格（assign）",
                          "building {building} is in no grid: move it into one first (assign)"),
    "edit.swap_same_grid": ("楼栋 {a} 与 {b} 都在网格 {grid} 中：交换是在两个网格之间交换楼栋",
                            "buildings {a} and {b} are both in grid {grid}: a swap trades buildings of two grids"),
    "edit.swap_broken": (
        "交换 {a} ↔ {b} {reason}：请换一栋楼交换（GET /v1/plans/{plan}/swap-candidates?building={a} 列出保持两个网格"
        "完整的楼栋），或用 assign 移动该楼",
        "the swap {a} ↔ {b} {reason}: pick another building to swap with (GET /v1/plans/{plan}/swap-candidates?"
        "building={a} lists the ones that keep both grids whole), or move the building with assign"),
    "move.empty": ("会使网格 {grid} 没有土地", "would leave grid {grid} without land"),
    "move.non_contiguous": ("会把网格 {grid} 分成 {parts} 块", "would split grid {grid} into {parts} parts"),
    "edit.merge_two_codes": ("合并需要恰好两个不同的网格编码：{{\"grids\": [\"…001\", \"…002\"]}}",
                             "merge takes exactly two different grid codes: {{\"grids\": [\"…001\", \"…002\"]}}"),
    "edit.merge_other_community": ("网格 {a} 与 {b} 属于不同社区；一个网格只属于一个社区",
                                   "grids {a} and {b} are in different communities; a grid belongs to one community"),
    "edit.merge_not_in_community": ("本社区没有网格 {grid!r}：合并的两个网格须在同一社区",
                                    "no grid {grid!r} in this community: both grids of a merge must be in one community"),
    "edit.merge_same_grid": ("合并需要两个不同的网格", "merge needs two different grids"),
    "edit.merge_not_neighbours": ("网格 {a} 与 {b} 没有公共边界：只能合并相邻的网格",
                                  "grids {a} and {b} do not share a border; merge neighbouring grids only"),
    "edit.no_grid_in_community": ("本社区没有网格 {grid!r}", "no grid {grid!r} in this community"),
    "edit.boundary_outside_community": ("网格 {grid} 的新边界与其社区不重叠：请画在社区内",
                                        "the new boundary of grid {grid} does not overlap its community; draw it "
                                        "inside the community"),
    "edit.split_not_a_line": ("拆分线须是至少有两个不同点的 LineString",
                              "the split line must be a LineString with at least two distinct points"),
    "edit.split_not_in_two": ("这条线没有把网格切成两块：请从网格外开始，穿过网格，画到网格外",
                              "the line does not cut the grid in two: draw it from outside the grid, across it, "
                              "to outside again"),
    "edit.split_one_side": ("切出的每一块都在线的同一侧：请画一条穿过网格的线",
                            "every piece of the cut lies on one side of the line: draw a line that crosses the grid"),
    "edit.split_empty_side": ("保持楼栋完整后，拆分的一侧为空：请把线画在楼栋之间",
                              "after keeping buildings whole one side of the split is empty: draw the line between "
                              "buildings"),
    # ---- plans, drafts and edits the editor rarely meets (geo/plans.py, geo/plan_edits.py, geo/plan_hints.py,
    # api/routes/plans.py, api/params.py): unknown plans, grids, buildings and communities, names, codes, limits
    "plan.not_found": ("没有编号为 {plan} 的方案：GET /v1/plans 列出所有方案", "no plan with id {plan}: GET /v1/plans lists them"),
    "plan.name_required": ("方案需要名称：{{\"name\": \"2027 年调整\"}}", "a plan needs a name: {{\"name\": \"2027 redraw\"}}"),
    "plan.name_too_long": ("方案名称最多 {limit} 个字符，而不是 {n} 个", "a plan name has at most {limit} characters, not {n}"),
    "plan.none_published_to_copy": ("没有已发布的方案可复制：请指定来源方案 {{\"source\": id}}",
                                    "no plan is published to copy; name a source plan: {{\"source\": id}}"),
    "plan.no_community": ("没有社区 {community!r}：GET /v1/communities 列出社区编码",
                          "no community {community!r}: GET /v1/communities lists the codes"),
    "plan.bad_if_match": ("If-Match 须为方案版本，例如 \"7\"（即方案的 ETag），而不是 {value!r}",
                          "If-Match must be a plan version such as \"7\" (the plan's ETag), not {value!r}"),
    "edit.assign_either": ("请发送 {{\"building\": 编码}} 或 {{\"buildings\": [编码, ...]}} 之一，并带上 \"grid\"",
                           "send either {{\"building\": code}} or {{\"buildings\": [codes]}}, with \"grid\""),
    "edit.assign_none": ("请至少指定一栋楼：{{\"building\": 编码}} 或 {{\"buildings\": [编码, ...]}}",
                         "name at least one building: {{\"building\": code}} or {{\"buildings\": [codes]}}"),
    "edit.assign_too_many": ("一次最多移动 {limit} 栋楼，而不是 {n} 栋：请分几次移动",
                             "at most {limit} buildings in one assignment, not {n}"),
    "edit.no_building": ("没有楼栋 {building!r}{more}：GET /v1/buildings 列出楼栋编码",
                         "no building {building!r}{more}: GET /v1/buildings lists the codes"),
    "edit.more_buildings": ("（另有 {n} 栋也不存在）", " (and {n} more)"),
    "edit.no_grid": ("方案 {plan} 中没有网格 {grid!r}：GET /v1/plans/{plan}/grids 列出其网格",
                     "no grid {grid!r} in plan {plan}: GET /v1/plans/{plan}/grids lists them"),
    "edit.neighbours_value": ("neighbours 须为 'adjust'（邻近网格随之调整）或 'keep'（按原样保存），而不是 {value!r}",
                              "neighbours must be 'adjust' or 'keep', not {value!r}"),
    "edit.too_many_vertices": (
        "{what}有 {n:,} 个顶点；一次修改最多 {limit:,} 个（GRIDMAP_EDIT_MAX_VERTICES）：请简化它（QGIS：矢量 ▸ 几何工具 ▸ "
        "简化，0.1 米）或用更少的点绘制",
        "{what} has {n:,} vertices; an edit takes at most {limit:,} (GRIDMAP_EDIT_MAX_VERTICES): simplify it "
        "(QGIS: Vector ▸ Geometry Tools ▸ Simplify, 0.1 m) or draw it with fewer points"),
    "edit.what_boundary": ("网格 {grid} 的新边界", "the new boundary of grid {grid}"),
    "edit.what_new_grid": ("新网格的边界", "the new grid's boundary"),
    "edit.what_split_line": ("拆分线", "the split line"),
    "edit.what_feature": ("第 {i} 个要素（网格 {grid}）", "feature {i} (grid {grid})"),
    "edit.geos_failed": (
        "无法用这个几何完成 {op}（几何引擎报告：{reason}）：请发送一个有效的 Polygon 或 MultiPolygon，不要有自相接触的环或"
        "几乎重合的顶点，或先简化它",
        "the {op} could not be computed with this geometry (the geometry engine says: {reason}); send one valid "
        "Polygon or MultiPolygon without rings that touch themselves or near-duplicate vertices, or simplify it"),
    "edit.add_bad_code": (
        "网格编码为 15 位数字（12 位社区编码加 3 位序号），而不是 {code}；不填编码则使用该社区下一个空闲编码",
        "a grid code is 15 digits (the 12-digit community code and a 3-digit number), not {code}; leave it out to "
        "get the community's next free code"),
    "edit.add_bad_name": ("网格名称为 1 到 100 个字符", "a grid name is 1 to 100 characters"),
    "edit.unknown_community": ("未知的社区编码 community_code {community}：GET /v1/communities 列出社区编码",
                               "unknown community_code {community}; GET /v1/communities lists them"),
    "edit.code_names_no_community": (
        "网格编码 {code} 不对应任何社区（{community} 不是社区编码）：GET /v1/communities 列出社区编码",
        "grid code {code} names no community ({community} is not a community code); GET /v1/communities lists them"),
    "edit.add_outside_communities": ("新网格不在任何社区内：请画在某个社区内（GET /v1/communities 给出社区边界）",
                                     "the new grid lies outside every community: draw it inside one "
                                     "(GET /v1/communities has their boundaries)"),
    "edit.add_code_other_community": (
        "网格编码 {code} 不属于社区 {community}：网格编码以其社区编码开头；不填编码则使用下一个空闲编码",
        "grid code {code} is not of community {community}: a grid code starts with its community's code; leave the "
        "code out to get the next free one"),
    "edit.add_code_exists": (
        "方案 {plan} 中已有网格 {code}：请替换它（PUT），或不填编码以使用该社区下一个空闲编码",
        "grid {code} already exists in plan {plan}: replace it (PUT) or leave the code out to get the community's "
        "next free code"),
    "edit.add_not_in_community": ("新网格与其社区 {community} 不重叠：请画在社区内（或指定另一个 community_code）",
                                  "the new grid does not overlap its community {community}: draw it inside the "
                                  "community (or name another community_code)"),
    "edit.add_no_land": (
        "新网格不会包含社区 {community} 的任何土地（太小，或全部归了楼栋所在的网格）：请画大一些",
        "the new grid would hold no land of community {community} (too small, or all of it went to the buildings' "
        "grids): draw a larger boundary"),
    "edit.remove_only_grid": (
        "网格 {grid} 是其社区唯一的网格：社区的土地必须属于某个网格；请先新增一个网格（POST）或改画这个网格",
        "grid {grid} is the only grid of its community: a community's land must belong to a grid; add another grid "
        "first (POST) or reshape this one"),
    "edit.remove_no_neighbour": (
        "网格 {grid} 与本社区其他网格没有公共边界，它的土地无处可去：请先改画一个网格覆盖它",
        "grid {grid} shares no border with another grid of its community, so its land has no neighbour to go to: "
        "reshape a grid over it first"),
    "edit.codes_used_up": ("社区 {community} 的 999 个网格序号已全部用过", "community {community} has used all 999 grid numbers"),
    "suggest.no_buildings": ("社区 {community} 没有可以划分成网格的楼栋", "community {community} has no buildings to group into grids"),
    "hint.other_communities": (
        "这些楼栋属于不同社区；楼栋只能在本社区内移动：请一次只问一个社区的楼栋",
        "the buildings are in different communities; a building moves only within its community: ask about the "
        "buildings of one community at a time"),
    "hint.no_buildings": ("请指定要移动的楼栋：?buildings=编码[,编码...]", "name the buildings to move: ?buildings=CODE[,CODE...]"),
    "hint.too_many": ("一次最多问 {limit} 栋楼，而不是 {n} 栋", "at most {limit} buildings in one question, not {n}"),
    "hint.no_grid": ("楼栋 {building} 不在此方案的任何网格中：请先把它移入一个网格",
                     "building {building} is in no grid of this plan: move it into one first"),
    # ---- importing a plan's grids from a file (POST /v1/plans/{id}/import: api/routes/plans.py, geo/exchange.py,
    # geo/plan_edits.py replace_grids; each feature's reasons from geo/io/validate.py)
    "import.bad_suffix": ("请上传 .gpkg、.geojson/.json 或压缩的 Shapefile（.zip），而不是 {name}",
                          "upload a .gpkg, .geojson/.json or a zipped Shapefile (.zip), not {name}"),
    "import.three_d": (
        "文件中的网格是三维的（{kind}）：网格边界没有高度；请把图层另存为二维（QGIS：矢量 ▸ 几何工具 ▸ 删除 M/Z 值）后再导入",
        "the file's grids are 3-D ({kind}): a grid boundary has no height; save the layer as 2-D (QGIS: Vector ▸ "
        "Geometry Tools ▸ Drop M/Z Values) and import it again"),
    "import.refused": ("{total} 个要素中有 {n} 个无法导入，什么都没有改变。第一个：第 {index} 个要素：{reason}",
                       "{n} of {total} features cannot be imported; nothing was changed. First: feature {index}: {reason}"),
    "import.no_grids": ("文件中没有网格", "the file holds no grids"),
    "import.code_digits": ("code 须为 15 位数字，而不是 {code}", "code must be 15 digits, not {code}"),
    "import.missing": ("缺少必填字段 {names}", "missing required {names}"),
    "import.too_many_vertices": ("有 {n:,} 个顶点，超过上限 {limit:,}：请简化它",
                                 "{n:,} vertices, more than the limit of {limit:,}; simplify it"),
    "import.code_repeats": ("code {code} 与第 {index} 个要素重复", "code {code} repeats feature {index}"),
    "import.unreadable": ("无法读取该要素的几何（{reason}）", "{reason}"),
    "import.bad_coordinates": ("坐标超出经纬度范围或不是有限数（{reason}）：请检查经纬度是否写反以及坐标系", "{reason}"),
    "import.wrong_type": ("此处不接受 {type} 几何：应为 {expected}",
                          "geometry type {type} is not accepted here; expected {expected}"),
    "import.feature_code": ("第 {i} 个要素：code 须为 15 位数字，而不是 {code}", "feature {i}: code must be 15 digits, not {code}"),
    "import.feature_twice": ("第 {i} 个要素：网格编码 {code} 出现了两次", "feature {i}: grid code {code} appears twice"),
    "import.feature_community": ("第 {i} 个要素：未知的社区编码 community_code {community}：GET /v1/communities 列出社区编码",
                                 "feature {i}: unknown community_code {community}; GET /v1/communities lists them"),
    "import.feature_other_community": ("第 {i} 个要素：网格 {code} 在此方案中属于另一个社区",
                                       "feature {i}: grid {code} belongs to another community in this plan"),
    # ---- exporting a plan's grids (GET /v1/plans/{id}/export: geo/exchange.py, geo/io/write.py)
    "export.unknown_format": ("未知的格式 {fmt!r}：请使用 {formats} 之一", "unknown format {fmt!r}: use one of {formats}"),
    "export.encoding_for_shp": (
        "encoding={encoding} 只用于 format=shp：{fmt} 文件总是 UTF-8；请去掉 encoding，或改用 format=shp",
        "encoding={encoding} is for format=shp only: {fmt} files are always UTF-8; leave encoding out, or ask for "
        "format=shp"),
    "export.cannot_encode": (
        "{feature}：其 {column} {value!r} 含有 {char!r}（{point}），{encoding} 无法编码；请用 encoding=utf-8 导出，或修改该值",
        "{feature}: its {column} {value!r} has {char!r} ({point}), which {encoding} cannot encode; export with "
        "encoding=utf-8, or change the value"),
    "export.field_too_long": (
        "{feature}：其 {column} 在 {encoding} 下有 {size} 字节，超过 Shapefile（DBF）字段能容纳的 {limit} 字节；请导出为 .gpkg "
        "或 .geojson",
        "{feature}: its {column} is {size} bytes in {encoding}, more than the {limit} a Shapefile (DBF) field holds; "
        "export to .gpkg or .geojson"),
    "export.mixed_geometries": (
        "{file}：Shapefile 只能容纳一种几何，而 {layer} 有 {kinds}；请改为导出 .gpkg 或 .geojson",
        "{file}: a Shapefile holds one kind of geometry, and {layer} has {kinds}; export it to .gpkg or .geojson "
        "instead"),
    "export.feature": ("第 {i} 个要素", "feature {i}"),
    "export.feature_code": ("第 {i} 个要素（{label} {code}）", "feature {i} ({label} {code})"),
    # ---- the OGC API (api/routes/ogc.py)
    "ogc.version_required": (
        "请说明此修改基于方案的哪个版本：发送请求头 If-Match: \"<version>\"（GET /ogc/collections/grids/items/{{code}}?plan= "
        "或 GET /v1/plans/{{id}} 返回的 ETag）",
        "say which plan version this edit was made against: send the header If-Match: \"<version>\" (the ETag of "
        "GET /ogc/collections/grids/items/{{code}}?plan= or of GET /v1/plans/{{id}})"),
    "ogc.plan_required": (
        "请指定要编辑的草稿：?plan=<草稿编号>（GET /v1/plans 列出方案；已发布的方案从不直接编辑：请先新建草稿 POST /v1/plans）",
        "name the draft to edit: ?plan=<draft id> (GET /v1/plans lists the plans; the published plan is never "
        "edited: make a draft: POST /v1/plans)"),
    "ogc.media_type": ("此处不读取 {kind!r} 类型的请求体：请发送 {accepted}",
                       "a body of type {kind!r} is not read here: send {accepted}"),
    "ogc.role_too_low": (
        "{role!r} 密钥不能读取 {collection}：需要 {needs!r} 或更高角色",
        "a {role!r} key cannot read {collection}: it needs the {needs!r} role or above"),
    # ---- a request FastAPI/pydantic refused before any route ran (api/errors.py: 422 invalid_request, on /ogc
    # 400 invalid_parameter); one entry per pydantic error type ("request.<type>", or one named in
    # REQUEST_ERROR_ALIASES), "request.other" for the rest. {where} is the field as "查询参数 lon（经度）"
    "request.invalid": ("请求无效（各字段的要求见 /docs）", "invalid request (see /docs for the expected fields)"),
    "request.problems": ("{problems}（各字段的要求见 /docs）", "{problems} (see /docs for the expected fields)"),
    "request.in.query": ("查询参数 {name}", "query parameter {name}"),
    "request.in.body": ("请求体字段 {name}", "body field {name}"),
    "request.in.path": ("路径参数 {name}", "path parameter {name}"),
    "request.in.header": ("请求头 {name}", "header {name}"),
    "request.in.cookie": ("Cookie 字段 {name}", "cookie {name}"),
    "request.in.other": ("字段 {name}", "field {name}"),
    "request.the_body": ("请求体", "the request body"),
    "request.missing": ("缺少{where}：请提供它", "{where} is missing: send it"),
    "request.int_parsing": ("{where} 须为整数，而不是 {input}", "{where} must be an integer, not {input}"),
    "request.int_from_float": ("{where} 须为整数（不带小数），而不是 {input}",
                               "{where} must be a whole number (no fraction), not {input}"),
    "request.float_parsing": ("{where} 须为数字（例如 113.1），而不是 {input}",
                              "{where} must be a number (e.g. 113.1), not {input}"),
    "request.finite_number": ("{where} 须为有限的数字（不能是 NaN 或无穷大）",
                              "{where} must be a finite number (not NaN or infinity)"),
    "request.bool_parsing": ("{where} 须为 true 或 false，而不是 {input}", "{where} must be true or false, not {input}"),
    "request.string_type": ("{where} 须为文本（JSON 字符串）", "{where} must be a text (a JSON string)"),
    "request.string_too_short": ("{where} 至少要有 {min_length} 个字符", "{where} needs at least {min_length} character(s)"),
    "request.string_too_long": ("{where} 最多 {max_length} 个字符：请缩短", "{where} has at most {max_length} characters: shorten it"),
    "request.string_pattern_mismatch": ("{where} 的格式不对：须符合 {pattern}", "{where} is not in the form {pattern}"),
    "request.greater_than": ("{where} 须大于 {gt}，而不是 {input}", "{where} must be greater than {gt}, not {input}"),
    "request.greater_than_equal": ("{where} 须大于或等于 {ge}，而不是 {input}",
                                   "{where} must be at least {ge}, not {input}"),
    "request.less_than": ("{where} 须小于 {lt}，而不是 {input}", "{where} must be less than {lt}, not {input}"),
    "request.less_than_equal": ("{where} 须小于或等于 {le}，而不是 {input}", "{where} must be at most {le}, not {input}"),
    "request.multiple_of": ("{where} 须为 {multiple_of} 的倍数", "{where} must be a multiple of {multiple_of}"),
    "request.literal_error": ("{where} 须为以下之一：{expected}，而不是 {input}",
                              "{where} must be one of {expected}, not {input}"),
    "request.json_invalid": (
        "请求体不是有效的 JSON（约第 {position} 个字符处：{error}）：请发送 UTF-8 编码的 JSON，并带上请求头 "
        "Content-Type: application/json",
        "the request body is not valid JSON (near character {position}: {error}): send UTF-8 encoded JSON with "
        "the header Content-Type: application/json"),
    "request.json_type": ("{where} 须为 JSON 文本", "{where} must be JSON text"),
    "request.list_type": ("{where} 须为列表（JSON 数组 [...]）", "{where} must be a list (a JSON array [...])"),
    "request.too_short": ("{where} 至少要有 {min_length} 项，而不是 {actual_length} 项",
                          "{where} needs at least {min_length} item(s), not {actual_length}"),
    "request.too_long": ("{where} 最多 {max_length} 项，而不是 {actual_length} 项：请分成几次请求",
                         "{where} has at most {max_length} item(s), not {actual_length}: split the request"),
    "request.dict_type": ("{where} 须为 JSON 对象（{{...}}）", "{where} must be a JSON object ({{...}})"),
    "request.extra_forbidden": ("{where} 不是此请求的字段：请删除它（可用的字段见 /docs）",
                                "{where} is not a field of this request: remove it (/docs lists the fields)"),
    "request.datetime_parsing": ("{where} 须为 ISO 8601 日期时间，例如 2026-12-01T08:00:00+08:00，而不是 {input}",
                                 "{where} must be an ISO 8601 date and time, e.g. 2026-12-01T08:00:00+08:00, not {input}"),
    "request.date_parsing": ("{where} 须为 ISO 8601 日期，例如 2026-12-01，而不是 {input}",
                             "{where} must be an ISO 8601 date, e.g. 2026-12-01, not {input}"),
    "request.value_error": ("{where} 的值无效：{error}", "{where} is not a valid value: {error}"),
    "request.other": ("{where} 的值无效（{problem}）：请按 /docs 中的说明填写",
                      "{where} is not valid ({problem}): see /docs for what it takes"),
    # field names in requests, written beside the field in Chinese ("查询参数 lon（经度）")
    "request.field": ("{name}（即{meaning}）", "{name} ({meaning})"),
    **{f"field.{name}": meaning for name, meaning in {
        "lon": ("经度", "longitude"), "lat": ("纬度", "latitude"), "crs": ("坐标系", "coordinate reference system"),
        "at": ("查询时间", "the time asked about"), "q": ("地址", "address"), "plan": ("方案编号", "plan id"),
        "plan_id": ("方案编号", "plan id"), "grid": ("网格编码", "grid code"), "grids": ("网格编码", "grid codes"),
        "building": ("楼栋编码", "building code"), "buildings": ("楼栋编码", "building codes"),
        "name": ("名称", "name"), "source": ("来源方案编号", "source plan id"), "community": ("社区编码", "community code"),
        "seed": ("随机种子", "random seed"), "format": ("文件格式", "file format"), "encoding": ("编码", "encoding"),
        "layer": ("图层", "layer"), "bbox": ("范围框", "bounding box"), "limit": ("条数上限", "most items"),
        "offset": ("起始位置", "offset"), "geometry": ("几何", "geometry"), "line": ("拆分线", "split line"),
        "category": ("事件类别", "incident category"), "points": ("坐标点", "points"),
        "addresses": ("地址", "addresses"), "acknowledge_warnings": ("接受警告", "accept the warnings"),
        "if-match": ("方案版本", "plan version"), "file": ("上传文件", "uploaded file"),
        "start": ("开始时间", "start"), "end": ("结束时间", "end"), "cell_m": ("格网边长（米）", "cell size (m)"),
    }.items()},
    # ---- geometry problems (geo/validation: GeometryProblem.reason)
    "geometry.null": ("几何为空值：该要素没有几何图形", "null geometry: the feature has no geometry"),
    "geometry.empty": ("几何为空：没有坐标", "empty geometry: it has no coordinates"),
    "geometry.malformed": ("几何格式错误：无法读取，请按 GeoJSON、WKT 或 WKB 的格式发送",
                           "malformed geometry: it cannot be read; send GeoJSON, WKT or WKB"),
    "geometry.three_d": ("几何带有 Z 坐标：请只发送二维坐标", "the geometry has Z coordinates: send 2D only"),
    "geometry.invalid_coordinate": ("坐标无效（非有限数或超出范围）：请检查经纬度是否写反",
                                    "an invalid coordinate (not finite or out of range): check lon/lat order"),
    "geometry.ring_not_closed": ("环未闭合：最后一点须与第一点相同", "a ring is not closed: repeat its first point last"),
    "geometry.too_few_points": ("点数太少：一个环至少需要 4 个点", "too few points: a ring needs at least 4"),
    "geometry.self_intersection": ("边界自相交：请重画，使边不交叉", "the boundary self-intersects: redraw it so its edges do not cross"),
    "geometry.ring_self_intersection": ("环自相交：请重画该环", "a ring self-intersects: redraw the ring"),
    "geometry.hole_outside_shell": ("洞位于外环之外：请把洞画在多边形内部", "a hole lies outside the shell: draw holes inside"),
    "geometry.nested_holes": ("洞互相嵌套：请合并或删除内层的洞", "holes are nested: merge or remove the inner one"),
    "geometry.disconnected_interior": ("多边形内部不连通：请把它拆成多个多边形",
                                       "the interior is disconnected: split it into several polygons"),
    "geometry.nested_shells": ("多边形相互嵌套：内层的应作为洞", "polygons are nested: the inner one should be a hole"),
    "geometry.overlapping_parts": ("多边形的各部分重叠：请合并它们", "parts of the multipolygon overlap: merge them"),
    "geometry.duplicate_rings": ("有重复的环：请删除重复的环", "a ring is repeated: remove the duplicate"),
    "geometry.invalid": ("几何无效（不符合 OGC 规范）：请修复后再发送", "the geometry is not OGC-valid: repair it and send it again"),
    "geometry.wrong_type": ("几何类型不对：请发送所要求的类型", "the wrong geometry type: send the type asked for"),
    "geometry.problem": ("{what} 的几何无效：{reason}", "{what}: {reason}"),
    # ---- Getis-Ord Gi* confidence bins (hot-spot tooltips on /maps/command)
    "hotspot.hot_99": ("显著热点 99 %", "significant hot spot"),
    "hotspot.hot_95": ("显著热点 95 %", "significant hot spot"),
    "hotspot.hot_90": ("显著热点 90 %", "significant hot spot"),
    "hotspot.cold_90": ("冷点 90 %", "cold spot"),
    "hotspot.cold_95": ("冷点 95 %", "cold spot"),
    "hotspot.cold_99": ("冷点 99 %", "cold spot"),
    "hotspot.not_significant": ("不显著", "not significant"),
    # ---- incident categories (geo/vocabulary.py), one entry each below: "category.<code>"
    "category.dispute": ("矛盾纠纷", "Dispute"),
    "category.safety_hazard": ("安全隐患", "Safety hazard"),
    "category.public_order": ("社会治安", "Public order"),
    "category.environment": ("环境卫生", "Environment"),
    "category.facilities": ("公共设施", "Facilities"),
    "category.other": ("其他", "Other"),
    # ---- "category.<code>.<subcategory>"
    **{f"category.{cat}.{sub}": _SUBCATEGORIES[sub] for cat, subs in INCIDENT_CATEGORIES.items() for sub in subs},
}


#: pydantic error types said by another type's entry ("request.<entry>"); a type neither here nor in
#: :data:`MESSAGES` as "request.<type>" is said by "request.other" (which quotes pydantic's English).
REQUEST_ERROR_ALIASES: dict[str, str] = {
    "int_type": "int_parsing", "int_parsing_size": "int_parsing", "float_type": "float_parsing",
    "bool_type": "bool_parsing", "string_unicode": "string_type", "enum": "literal_error",
    "tuple_type": "list_type", "set_type": "list_type", "frozen_set_type": "list_type", "iterable_type": "list_type",
    "model_type": "dict_type", "model_attributes_type": "dict_type", "mapping_type": "dict_type",
    "datetime_type": "datetime_parsing", "datetime_from_date_parsing": "datetime_parsing",
    "datetime_object_invalid": "datetime_parsing", "timezone_aware": "datetime_parsing",
    "date_type": "date_parsing", "date_from_datetime_parsing": "date_parsing",
    "date_from_datetime_inexact": "date_parsing", "assertion_error": "value_error",
}


def fields_of(template: str) -> set[str]:
    """The named fields of a template.

    >>> sorted(fields_of("{a!r} and {b:.0f}"))
    ['a', 'b']
    """
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _render(message_id: str, lang: int, fields: Mapping[str, Any]) -> str:
    template = MESSAGES[message_id][lang]
    # a field that renders itself (a Msg, a GeometryProblem) is written in the same language
    return template.format(**{k: (v.render(lang) if hasattr(v, "render") else v) for k, v in fields.items()})


def zh(message_id: str, **fields: Any) -> str:
    """The Chinese of message *message_id* with *fields* filled in (KeyError: no such message)."""
    return _render(message_id, 0, fields)


def en(message_id: str, **fields: Any) -> str:
    """The English of message *message_id* with *fields* filled in."""
    return _render(message_id, 1, fields)


def both(message_id: str, **fields: Any) -> str:
    """"中文 — English": how the pages show a message."""
    return zh(message_id, **fields) + SEPARATOR + en(message_id, **fields)


def label(message_id: str) -> str:
    """"中文 English": how the pages show a label (a category, a hot-spot class)."""
    return f"{zh(message_id)} {en(message_id)}"


class Msg:
    """A message as a field of another (rendered in the same language): ``Msg("plan.no_area")``."""

    def __init__(self, message_id: str, **fields: Any):
        self.id, self.fields = message_id, fields

    def render(self, lang: int) -> str:
        return _render(self.id, lang, self.fields)

    def __str__(self) -> str:
        return self.render(1)


class Said:
    """A text already said in both languages (e.g. a feature's reasons, made of several messages), as a field
    of another message: ``Said("中文", "English")``."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en

    def render(self, lang: int) -> str:
        return self.zh if lang == 0 else self.en

    def __str__(self) -> str:
        return self.en


class Joined:
    """Several messages as one field (each rendered in the field's language), joined by *sep* (a message id,
    or ``(zh, en)`` separators); an item with no ``render`` is a plan problem (its detail_zh / detail) or text.

    >>> named = Joined([Msg("plan.in_use_plans", plans="#4"), Msg("plan.in_use_incidents", n=2)], "plan.and")
    >>> en("plan.in_use", plan=3, named=named)[:81]
    'draft 3 is referred to by plan(s) #4 copied from it (their source) and 2 incident'
    >>> zh("plan.in_use", plan=3, named=named)[:33]
    '草稿 3 被从它复制的方案 #4（以它为来源）和位于其网格中的 2'
    """

    def __init__(self, items: list[Any], sep: str | tuple[str, str] = ("；", "; "), tail: Any = None):
        self.items, self.sep, self.tail = list(items), sep, tail

    @staticmethod
    def _one(item: Any, lang: int) -> str:
        if hasattr(item, "render"):
            return str(item.render(lang))
        chinese = getattr(item, "detail_zh", None)
        if lang == 0 and chinese:
            return str(chinese)
        return str(getattr(item, "detail", item))

    def render(self, lang: int) -> str:
        sep = _render(self.sep, lang, {}) if isinstance(self.sep, str) else self.sep[lang]
        text = sep.join(self._one(i, lang) for i in self.items)
        return text + (self._one(self.tail, lang) if self.tail is not None else "")

    def __str__(self) -> str:
        return self.render(1)


def category_label(category: str, subcategory: str | None = None) -> str:
    """The bilingual label of an incident category (and subcategory); the code itself when unknown."""
    key = f"category.{category}" + (f".{subcategory}" if subcategory else "")
    return label(key) if key in MESSAGES else key.removeprefix("category.")


def labels(prefix: str) -> dict[str, str]:
    """Every label under *prefix* ("hotspot.", "category."), by the rest of its id: for the pages' scripts."""
    return {k[len(prefix):]: label(k) for k in MESSAGES if k.startswith(prefix)}
