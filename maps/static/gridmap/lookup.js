/*
 * gridmap lookup page (/maps/lookup): click the map or type an address, and the
 * grid is highlighted and described. Built by maps/lookup.py; loaded with
 * <script defer> so it runs after folium's inline script has made the map.
 *
 * Finding what folium drew (gridmapCommon.findPage in common.js, loaded just before this):
 *  - the map: the L.Map among window's properties whose container holds the
 *    search panel (#gm-lookup);
 *  - the layers: the L.GeoJSON layers with options.gmLayer "grids" and
 *    "buildings" (maps/lookup.py passes gm_layer=..., folium forwards it);
 *  - settings: data-* attributes of #gm-lookup (data-api-base; data-bounds: the town's box).
 *
 * The layers are embedded in the page, or (a city: maps/byview.py) loaded by view: then the grids and
 * buildings known to this script are those in view, re-indexed after each load ("gm:loaded"); the
 * highlighted grid is highlighted again when it comes into view, and a grid out of view (an address
 * candidate's) is fetched by its code from /ogc to zoom to it.
 *
 * API calls are same-origin fetches (gridmapCommon.fetchJSON); the HttpOnly session cookie authenticates.
 * Everything taken from the API goes into the DOM with textContent, never innerHTML.
 *
 * Test hook: window.gridmapLookup = {highlighted() -> grid code or null,
 * state() -> the card's data-state, map, grids, buildings, ready}.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var el = C.el;
  var number = C.number;
  var PANEL_ID = "gm-lookup";
  var HIGHLIGHT = { color: "#b2182b", weight: 4, opacity: 1, fillOpacity: 0.5, dashArray: null };
  var BUILDING_HIGHLIGHT = { color: "#1d3f7a", weight: 3, fillColor: "#2b5fad", fillOpacity: 0.8 };
  var MARKER = {
    radius: 7, color: "#ffffff", weight: 2, fillColor: "#b2182b", fillOpacity: 1, interactive: false,
  };

  // the L.GeoJSON layer with options.gmLayer *name*, or null
  function geoJSON(layers, name) {
    return layers[name] instanceof L.GeoJSON ? layers[name] : null;
  }

  /* ---------- small DOM helpers (text only) ---------- */

  function present(value) { // "–": no value (the API's placeholder)
    return C.present(value) && value !== "–";
  }

  // rows of [term, text or a DOM node]; a row without a value is left out
  function definitionList(rows) {
    var dl = el("dl");
    rows.forEach(function (row) {
      if (!(row[1] instanceof Node) && !present(row[1])) return;
      dl.appendChild(el("dt", null, row[0]));
      var dd = dl.appendChild(el("dd"));
      if (row[1] instanceof Node) dd.appendChild(row[1]);
      else dd.textContent = String(row[1]);
    });
    return dl;
  }

  // a phone number as a tap-to-call link (tel: keeps digits and + - , ; * #), its text as given
  function phoneLink(phone) {
    var a = el("a", "gm-tel", phone);
    a.href = "tel:" + String(phone).replace(/[^0-9+\-,;*#]/g, "");
    return a;
  }

  // "name · phone": the phone a tel: link
  function memberNode(member) {
    var span = el("span", null, member.name);
    if (present(member.phone)) {
      span.appendChild(document.createTextNode(" · "));
      span.appendChild(phoneLink(member.phone));
    }
    return span;
  }

  function init() {
    var page = C.findPage(PANEL_ID, ["grids"]);
    var grids = page && geoJSON(page.layers, "grids");
    if (!grids) return false;

    var panel = page.panel;
    var map = page.map;
    var buildings = geoJSON(page.layers, "buildings");
    var apiBase = C.apiBase(panel);
    var form = panel.querySelector("form");
    var input = document.getElementById("gm-lookup-q");
    var card = document.getElementById("gm-lookup-card");

    map.getContainer().classList.add("gm-lookup-map");

    /* ---------- indexes and labels ---------- */

    var byView = !!grids.options.gmSource;
    var gridByCode = {};
    var buildingByCode = {};
    var labelByCode = {};
    var fetchedGrids = {}; // code -> GeoJSON feature fetched from /ogc (a grid out of view)
    var labels = L.layerGroup();
    labels.addTo(map);

    function indexGrids() {
      gridByCode = {};
      labelByCode = {};
      labels.clearLayers();
      grids.eachLayer(function (layer) {
        var p = (layer.feature && layer.feature.properties) || {};
        if (!present(p.code)) return;
        gridByCode[p.code] = layer;
        if (typeof p.label_lat === "number" && typeof p.label_lon === "number") {
          var span = el("span", null, present(p.label) ? p.label : C.gridLabel(p.code));
          var marker = L.marker([p.label_lat, p.label_lon], {
            icon: L.divIcon({ className: "gm-lookup-label", html: span, iconSize: [0, 0] }),
            interactive: false,
            keyboard: false,
          });
          labelByCode[p.code] = marker;
          labels.addLayer(marker);
        }
      });
    }

    function indexBuildings() {
      buildingByCode = {};
      if (!buildings) return;
      buildings.eachLayer(function (layer) {
        var p = (layer.feature && layer.feature.properties) || {};
        if (present(p.code)) buildingByCode[p.code] = layer;
      });
    }

    indexGrids();
    indexBuildings();

    /* ---------- map state: highlighted grid and building, the point marker ---------- */

    var highlighted = null;
    var highlightedBuilding = null;
    var wantedGrid = null; // the grid to highlight, drawn or not (by view: it may come into view later)
    var wantedBuilding = null;
    var pointMarker = null;

    function labelClass(code, on) {
      var marker = labelByCode[code];
      var node = marker && marker.getElement();
      if (node) node.classList.toggle("gm-selected", on);
    }

    function highlight(code) {
      wantedGrid = code || null;
      if (highlighted !== null && gridByCode[highlighted]) {
        grids.resetStyle(gridByCode[highlighted]);
        labelClass(highlighted, false);
      }
      highlighted = null;
      var layer = code ? gridByCode[code] : null;
      if (!layer) return null;
      layer.setStyle(HIGHLIGHT);
      layer.bringToFront();
      if (buildings) buildings.bringToFront(); // footprints stay visible over the stronger fill
      labelClass(code, true);
      highlighted = code;
      return layer;
    }

    function highlightBuilding(code) {
      wantedBuilding = code || null;
      if (highlightedBuilding !== null && buildingByCode[highlightedBuilding]) {
        buildings.resetStyle(buildingByCode[highlightedBuilding]);
      }
      highlightedBuilding = null;
      var layer = code ? buildingByCode[code] : null;
      if (!layer) return null;
      layer.setStyle(BUILDING_HIGHLIGHT);
      layer.bringToFront();
      highlightedBuilding = code;
      return layer;
    }

    // loaded by view: new features in view; index them and highlight again what was highlighted
    grids.on("gm:loaded", function () {
      highlighted = null;
      indexGrids();
      if (wantedGrid) highlight(wantedGrid);
    });
    if (buildings) {
      buildings.on("gm:loaded", function () {
        highlightedBuilding = null;
        indexBuildings();
        if (wantedBuilding) highlightBuilding(wantedBuilding);
        if (highlighted && buildings) buildings.bringToFront();
      });
    }

    // -> Promise of the grid's GeoJSON feature (drawn, or fetched from /ogc by its code), or null
    function gridFeature(code) {
      if (!code) return Promise.resolve(null);
      if (gridByCode[code]) return Promise.resolve(gridByCode[code].feature);
      if (fetchedGrids[code]) return Promise.resolve(fetchedGrids[code]);
      if (!byView) return Promise.resolve(null);
      var url = "/ogc/collections/grids/items/" + encodeURIComponent(code);
      var params = grids.options.gmSource.params || {};
      return C.fetchJSON("", "GET", url, { params: params.plan ? { plan: params.plan } : undefined })
        .then(function (res) {
          if (!res.ok || !res.body || !res.body.geometry) return null;
          fetchedGrids[code] = res.body;
          return res.body;
        }, function () { return null; });
    }

    function setMarker(latlng) {
      if (!latlng) {
        if (pointMarker) map.removeLayer(pointMarker);
        pointMarker = null;
        return;
      }
      if (!pointMarker) pointMarker = L.circleMarker(latlng, MARKER).addTo(map);
      else pointMarker.setLatLng(latlng).addTo(map);
      pointMarker.bringToFront();
    }

    // the town: its grids when they are all drawn, else the box the page was made for (data-bounds)
    function townBounds() {
      return byView ? C.boundsOf(panel.getAttribute("data-bounds")) : grids.getBounds();
    }

    function zoomTo(layer) {
      if (layer && typeof layer.getBounds === "function") fitBeside(layer.getBounds(), 18);
    }

    // a phone (lookup.css): the card is a sheet fixed at the bottom of the window, the panel across the top
    function isPhone() {
      return window.getComputedStyle(card).position === "fixed";
    }

    // [top, left, bottom, right] of the map the panel and the card (a phone's sheet) leave in view, as padding
    function clearPadding() {
      if (!isPhone()) { // keep the target clear of the panel (top left) when the map is wide enough
        return [40, map.getSize().x > 2 * panel.offsetWidth + 120 ? panel.offsetWidth + 40 : 24, 40, 40];
      }
      var box = map.getContainer().getBoundingClientRect();
      var top = Math.max(10, panel.getBoundingClientRect().bottom - box.top + 10);
      var bottom = card.hidden ? 10 : Math.max(10, box.bottom - card.getBoundingClientRect().top + 10);
      return [top, 10, bottom, 10];
    }

    function fitBeside(bounds, maxZoom) {
      if (!bounds || !bounds.isValid()) return;
      var pad = clearPadding();
      var options = { paddingTopLeft: [pad[1], pad[0]], paddingBottomRight: [pad[3], pad[2]], maxZoom: maxZoom,
                      animate: false };
      var fit = function () { map.fitBounds(bounds, options); };
      // No animation: the end of a zoom animation still in flight would put back its own
      // target over a newer view (Leaflet 1.9), e.g. when candidates are clicked quickly.
      // If one is running (the user zooming), fit once it has ended.
      if (map._animatingZoom) map.once("zoomend", fit);
      else fit();
    }

    /* ---------- the card ---------- */

    function setCard(state, children) {
      card.textContent = "";
      card.appendChild(foldButton());
      children.forEach(function (child) {
        if (child) card.appendChild(child);
      });
      card.setAttribute("data-state", state);
      card.classList.remove("gm-folded");
      card.hidden = false;
    }

    // a phone's sheet folds to its first lines and opens again (lookup.css shows the button on a phone only)
    function foldButton() {
      var button = el("button", "gm-card-fold", "收起 Hide");
      button.type = "button";
      button.setAttribute("aria-expanded", "true");
      button.addEventListener("click", function (e) {
        L.DomEvent.stop(e);
        var folded = card.classList.toggle("gm-folded");
        button.textContent = folded ? "展开 Show" : "收起 Hide";
        button.setAttribute("aria-expanded", folded ? "false" : "true");
      });
      return button;
    }

    function gridFromProperties(code) {
      var feature = gridByCode[code] ? gridByCode[code].feature : fetchedGrids[code];
      if (!feature) return null;
      var p = feature.properties;
      return {
        code: p.code,
        name: p.name,
        community: { code: p.community_code, name: p.community_name },
        grid_member: present(p.grid_member) ? { name: p.grid_member, phone: p.grid_member_phone } : null,
      };
    }

    function buildingText(building) {
      if (!building) return null;
      var props = buildingByCode[building.code] ? buildingByCode[building.code].feature.properties : {};
      var text = building.address || props.address || building.name || building.code;
      var floors = building.floors || props.floors;
      return present(floors) ? text + " (" + floors + " 层 floors)" : text;
    }

    function gridSection(grid, extra) {
      var feature = gridByCode[grid.code] ? gridByCode[grid.code].feature : fetchedGrids[grid.code];
      var props = feature ? feature.properties : {};
      var community = grid.community || {};
      var member = grid.grid_member;
      var memberText = member && present(member.name) ? memberNode(member) : "未配置 none assigned";
      var rows = [
        ["社区 Community", present(community.name) ? community.name + " (" + (community.code || "") + ")" : community.code],
        ["网格员 Grid member", memberText],
        ["户数 Households", number(props.households)],
        ["人口 Population", number(props.population)],
      ].concat(extra || []);
      var box = el("div", "gm-card-grid");
      box.appendChild(el("div", "gm-card-label", "网格 Grid"));
      box.appendChild(el("div", "gm-card-code", grid.code));
      if (present(grid.name)) box.appendChild(el("div", "gm-card-name", grid.name));
      box.appendChild(definitionList(rows));
      return box;
    }

    function status(text, kind) {
      return el("div", "gm-card-status" + (kind ? " gm-" + kind : ""), text);
    }

    function candidateList(candidates, selected, heading) {
      if (!candidates || !candidates.length || (candidates.length < 2 && selected === undefined)) return null;
      var box = el("div", "gm-cands");
      box.appendChild(el("h2", null, heading));
      var list = el("ol");
      candidates.forEach(function (cand, i) {
        var item = el("li");
        var button = el("button", "gm-cand" + (i === selected ? " gm-selected" : ""));
        button.type = "button";
        button.setAttribute("data-index", String(i));
        var gridCode = candidateGrid(cand);
        button.appendChild(el("span", "gm-cand-address", cand.address || cand.building || "?"));
        var meta = [];
        if (present(cand.score)) meta.push("匹配 " + cand.score);
        if (gridCode) meta.push("网格 " + String(gridCode).slice(-3));
        button.appendChild(el("span", "gm-cand-meta", meta.join(" · ")));
        button.addEventListener("click", function (e) {
          // the card (and this button) is redrawn below: once detached, Leaflet could no
          // longer tell the click came from the panel and would take it for a map click
          L.DomEvent.stop(e);
          chooseCandidate(candidates, i, heading);
        });
        item.appendChild(button);
        list.appendChild(item);
      });
      box.appendChild(list);
      return box;
    }

    function candidateGrid(cand) {
      if (present(cand.grid_code)) return cand.grid_code;
      var b = cand.building && buildingByCode[cand.building];
      return b && present(b.feature.properties.grid_code) ? b.feature.properties.grid_code : null;
    }

    function plan(p) {
      return p && present(p.name) ? p.name : null;
    }

    /* ---------- API ---------- */

    var sequence = 0;

    // -> {status, body}: the answer whatever its status (body null if not JSON); rejects on a network error
    function getJSON(path, params) {
      return C.fetchJSON(apiBase, "GET", path, { params: params }).then(function (res) {
        return { status: res.status, body: res.body };
      });
    }

    function failed(result) {
      var message = result && result.body && result.body.error ? C.messageText(result.body.error) : null;
      var title = result && (result.status === 401 || result.status === 403)
        ? "请重新登录 Please sign in again"
        : "查询失败 Lookup failed";
      setCard("error", [
        status(title + (result && result.status ? " (HTTP " + result.status + ")" : ""), "error"),
        present(message) ? el("div", "gm-card-note", message) : null,
      ]);
    }

    function loading(text) {
      setCard("loading", [status(text)]);
    }

    /* ---------- point lookup ---------- */

    function lookupPoint(latlng) {
      var mine = ++sequence;
      setMarker(latlng);
      highlightBuilding(null);
      loading("查询中… Looking up…");
      var lon = L.Util.formatNum(latlng.lng, 7);
      var lat = L.Util.formatNum(latlng.lat, 7);
      return getJSON("/lookup", { lon: lon, lat: lat }).then(function (result) {
        if (mine !== sequence) return;
        var point = lon.toFixed(6) + ", " + lat.toFixed(6);
        if (result.status === 200 && result.body && result.body.grid) {
          var body = result.body;
          highlight(body.grid.code);
          if (body.building) highlightBuilding(body.building.code);
          setCard("grid", [
            gridSection(body.grid, [
              ["楼栋 Building", buildingText(body.building) || "无 none (not in a footprint)"],
              ["坐标 Point", point],
              ["方案 Plan", plan(body.plan)],
            ]),
          ]);
          // a phone: the sheet covers the lower part of the map; bring the grid into the part left in view
          if (isPhone() && gridByCode[body.grid.code]) zoomTo(gridByCode[body.grid.code]);
        } else if (result.status === 404 && result.body && result.body.error &&
                   result.body.error.code === "outside_grids") {
          highlight(null);
          setCard("outside", [
            status("此处不在任何网格内 This point is outside all grids", "warn"),
            el("div", "gm-card-note", "坐标 Point: " + point),
          ]);
        } else {
          highlight(null);
          failed(result);
        }
      }, function (err) {
        if (mine !== sequence) return;
        highlight(null);
        failed({ status: 0, body: { error: { message: String(err) } } });
      });
    }

    /* ---------- address lookup ---------- */

    function showMatch(match, grid, candidates, selected, heading, planInfo) {
      var gridLayer = highlight(grid ? grid.code : null);
      var buildingLayer = highlightBuilding(match.building);
      var building = match.building ? { code: match.building } : null;
      var extra = [
        ["标准地址 Address", match.address],
        ["匹配度 Score", present(match.score) ? match.score + " / 100" : null],
        ["楼栋 Building", buildingText(building)],
        ["方案 Plan", plan(planInfo)],
      ];
      var parts = grid
        ? [gridSection(grid, extra)]
        : [status("该楼栋不在任何网格内 This building is in no grid", "warn"), definitionList(extra)];
      parts.push(candidateList(candidates, selected, heading));
      setCard(grid ? "grid" : "outside", parts); // first: the zoom keeps the grid clear of the card (a phone)
      if (gridLayer || buildingLayer || !grid) zoomTo(gridLayer || buildingLayer);
      else {
        // not in view (loaded by view): zoom to the grid fetched by its code; it is then loaded and highlighted
        var mine = sequence;
        gridFeature(grid.code).then(function (f) {
          if (f && mine === sequence) fitBeside(L.geoJSON(f).getBounds(), 18);
        });
      }
    }

    var lastPlan = null;

    function chooseCandidate(candidates, i, heading) {
      ++sequence; // a candidate chosen now wins over any answer still on its way
      var mine = sequence;
      var cand = candidates[i];
      var code = candidateGrid(cand);
      setMarker(null);
      gridFeature(code).then(function () { // a grid out of view is fetched first (loaded by view)
        if (mine !== sequence) return;
        showMatch(cand, code ? gridFromProperties(code) : null, candidates, i, heading, lastPlan);
      });
    }

    function lookupAddress(q) {
      q = (q || "").trim();
      if (!q) {
        setCard("empty", [status("请输入地址 Please type an address", "warn")]);
        return Promise.resolve();
      }
      var mine = ++sequence;
      loading("查询中… Looking up…");
      return getJSON("/lookup/address", { q: q }).then(function (result) {
        if (mine !== sequence) return;
        var body = result.body || {};
        setMarker(null);
        if (result.status === 200 && body.match) {
          lastPlan = body.plan || null;
          var candidates = body.candidates || [];
          showMatch(body.match, body.grid, candidates, candidates.length > 1 ? 0 : undefined,
                    "候选地址 Candidates (" + candidates.length + ")", lastPlan);
        } else if (result.status === 404 && body.error && body.error.code === "no_match") {
          highlight(null);
          highlightBuilding(null);
          var cands = (body.error.details && body.error.details.candidates) || [];
          setCard("no_match", [
            status("未找到匹配地址 No matching address", "warn"),
            el("div", "gm-card-note", C.messageText(body.error)),
            cands.length ? candidateList(cands, -1, "可能是 Did you mean (" + cands.length + ")") : null,
          ]);
          fitBeside(townBounds(), 18); // back to the whole town: the old view answered another query
        } else {
          highlight(null);
          highlightBuilding(null);
          failed(result);
        }
      }, function (err) {
        if (mine !== sequence) return;
        failed({ status: 0, body: { error: { message: String(err) } } });
      });
    }

    /* ---------- wiring ---------- */

    fitBeside(townBounds(), 18); // the whole town, beside the panel rather than under it

    map.on("click", function (e) {
      lookupPoint(e.latlng);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      lookupAddress(input.value);
    });

    window.gridmapLookup = {
      highlighted: function () { return highlighted; },
      state: function () { return card.hidden ? null : card.getAttribute("data-state"); },
      lookupPoint: lookupPoint,
      lookupAddress: lookupAddress,
      map: map,
      grids: grids,
      buildings: buildings,
      ready: true,
    };
    return true;
  }

  C.start(init, "gridmap lookup: no Leaflet map with a 'grids' GeoJSON layer on this page");
})();
