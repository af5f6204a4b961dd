/*
 * gridmap coverage page (/maps/coverage): camera views by status, coverage gaps, a per-grid
 * coverage choropleth, key places nobody watches, and suggested sites for new cameras.
 * Built by maps/coverage.py; loaded with <script defer> so it runs after folium's inline script
 * has made the map, the grids and buildings, and the (empty) layers this script fills.
 *
 * Finding what folium drew (gridmapCommon.findPage in common.js, loaded just before this):
 *  - the map: the L.Map among window's properties whose container holds the panel (#gm-coverage);
 *  - the layers: the Leaflet layers with options.gmLayer "grids", "buildings" (L.GeoJSON) and
 *    "views", "gaps", "cameras", "key-uncovered", "key-covered", "suggestions" (empty
 *    L.featureGroups); maps/coverage.py passes gm_layer=..., folium forwards it;
 *  - settings: data-* attributes of #gm-coverage (API base, ratio classes, colours, labels).
 *
 * Data, same-origin fetches (gridmapCommon.requestJSON; the HttpOnly session cookie authenticates):
 *  - GET /v1/coverage          -> town totals, per-grid ratios (choropleth), key places' coverage;
 *  - GET /v1/coverage/views    -> every camera's visible polygon (offline/fault: dashed, not counted);
 *  - GET /v1/coverage/gaps     -> watchable space no online camera sees (hatched);
 *  - GET /v1/cameras           -> camera dots by status, a popup with the parameters each;
 *  - GET /v1/key-places        -> where the key places are;
 *  - POST /v1/coverage/suggest -> k new sites (numbered markers, dashed blue views, a list).
 * A city (data-by-view="1": the grids and buildings are loaded by view by byview.js): each load is
 * for the view plus a margin (a box), and the map loads again when the view leaves it:
 *  - GET /v1/coverage?bbox=&key_places=false -> town totals and the grids of the box (the choropleth
 *    keeps every grid's ratio it has seen, so grids byview.js draws later are coloured too);
 *  - the /ogc collections camera-views, coverage-gaps, cameras and key-places for the box
 *    (gridmapViews.inView: a count first, then the features), each drawn only when at most its budget
 *    (data-view-budgets) lie there; else none, and the status says how many and to zoom in;
 *  - GET /v1/coverage?bbox=&grids=false -> the coverage of the key places drawn.
 * Everything from the API goes into the DOM with textContent, never as HTML.
 *
 * Test hook: window.gridmapCoverage = {ready, map, layers, state() -> counts drawn per layer, town
 * totals, selected camera, suggestions; select(code); suggest(k, grid) -> Promise; clearSuggestions()}.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var el = C.el;
  var PANEL_ID = "gm-coverage";
  var LAYERS = ["grids", "views", "gaps", "cameras", "key-uncovered", "key-covered", "suggestions"];
  var STATUS_ORDER = { online: 0, offline: 1, fault: 2 };

  /* ---------- small helpers (text only) ---------- */

  // 0.3887 -> "38.9%" (one decimal, as the tests format the API's ratio)
  function percent(ratio) {
    return C.isNum(ratio) ? (ratio * 100).toFixed(1) + "%" : "–";
  }

  function squareMetres(n, digits) {
    return C.isNum(n) ? C.grouped(n, digits) + " m²" : "–";
  }

  function plain(n, unit) { // 3.7 -> "3.7 m"; 52 -> "52°"
    if (!C.isNum(n)) return "–";
    var s = Number.isInteger(n) ? String(n) : String(Math.round(n * 10) / 10);
    return s + unit;
  }

  /* ---------- the page ---------- */

  function init() {
    var page = C.findPage(PANEL_ID, LAYERS);
    if (!page) return false;
    var panel = page.panel, map = page.map, layers = page.layers;

    var data = panel.dataset;
    var apiBase = C.apiBase(panel);
    var maxK = Number(data.maxK) || 10;
    var CLASSES = C.parseJSON(data.classes, []); // [[class, low, high, label, colour], ...]
    var NO_RATIO = data.noRatioColour || "#e0e0e0";
    var STATUS_COLOURS = C.parseJSON(data.statusColours, {});
    var STATUS_LABELS = C.parseJSON(data.statusLabels, {});
    var KIND_LABELS = C.parseJSON(data.kindLabels, {});
    var MOUNT_LABELS = C.parseJSON(data.mountLabels, {});
    var DORI_LABELS = C.parseJSON(data.doriLabels, {});
    var PLACE_LABELS = C.parseJSON(data.placeLabels, {});
    var GAP = data.gapColour || "#e6550d";
    var SUGGESTED = data.suggestionColour || "#1f5fbf";
    var byView = data.byView === "1"; // needs gridmapViews (byview.js, loaded before this script)
    var ogcBase = data.ogcBase || "/ogc";
    var BUDGETS = C.parseJSON(data.viewBudgets, {});
    var COMMUNITY_BUDGET = BUDGETS.communities || 1000; // outlines drawn at once when zoomed out past the grids

    var form = document.getElementById("gm-cov-suggest-form");
    var kInput = document.getElementById("gm-cov-k");
    var gridSelect = document.getElementById("gm-cov-grid");
    var suggestButton = document.getElementById("gm-cov-suggest");
    var clearButton = document.getElementById("gm-cov-clear");
    var list = document.getElementById("gm-cov-suggestions");
    var statusBox = document.getElementById("gm-cov-status");
    var legend = document.querySelector(".gm-cov-legend");

    map.getContainer().classList.add("gm-coverage-map");

    /* panes (pointer events only on the interactive shapes themselves, so no pane's SVG hides
       the layers under it): views, gaps, the selected view, suggested views, key places,
       cameras, suggested sites */
    [["gm-cov-views", 410], ["gm-cov-gaps", 415], ["gm-cov-selected", 420], ["gm-cov-sugg-views", 425],
     ["gm-cov-keyplaces", 610], ["gm-cov-cameras", 620], ["gm-cov-labels", 625], ["gm-cov-sugg", 630]
    ].forEach(function (p) { C.pane(map, p[0], p[1], true); });

    // The gaps' hatch: an SVG pattern the gap paths fill with (coverage.css: fill: url(#gm-cov-hatch)).
    C.addHatches("gm-cov-defs", [
      { id: "gm-cov-hatch", colour: GAP, angle: 45, size: 6, line: 1.6, backOpacity: 0.06, lineOpacity: 0.85 },
    ]);

    /* ---------- state ---------- */

    var current = {
      loading: true,
      error: null,
      coverage: null, // GET /v1/coverage body
      gridCoverage: {}, // code -> grid entry
      placeCoverage: {}, // key place id -> entry
      views: {}, // camera code -> {feature, layer}
      cameras: {}, // camera code -> {feature, layer}
      counts: { grids: 0, views: 0, gaps: 0, cameras: 0, keyUncovered: 0, keyCovered: 0,
                suggestions: 0, suggestionViews: 0 },
      gridClasses: {},
      viewStatus: {},
      cameraStatus: {},
      selected: null,
      highlight: null, // L.GeoJSON of the selected camera's view
      viewsLoaded: false,
      box: null, // by view: the box of the latest load
      tooMany: {}, // by view: collection -> how many lie in the box (more than its budget; none drawn)
      sequence: 0,
      communities: [], // by view, zoomed out past the grids' budget: [{code, ratio, ...}] coloured
      communitySequence: 0,
      suggestions: [],
      suggestRequest: null,
      suggesting: false,
      suggestSequence: 0,
      suggestController: null,
      gridLayers: {}, // code -> L.Path of the choropleth
    };

    function setStatus(kind, text) {
      C.setStatus(statusBox, kind, text);
    }

    function request(method, path, params, body, signal) {
      return C.requestJSON(apiBase, method, path, { params: params, body: body, signal: signal });
    }

    /* ---------- the choropleth ---------- */

    function ratioClass(ratio) {
      if (typeof ratio !== "number" || !isFinite(ratio)) return null;
      for (var i = 0; i < CLASSES.length; i++) {
        var high = CLASSES[i][2];
        if (high === null || ratio < high) return CLASSES[i];
      }
      return CLASSES[CLASSES.length - 1] || null;
    }

    function gridTooltip(p, g) {
      var box = el("div", "gm-cov-tip");
      box.appendChild(el("strong", null, (g && g.name) || p.name || p.code));
      box.appendChild(el("div", "gm-cov-tip-code", p.code));
      if (!g || typeof g.ratio !== "number") {
        box.appendChild(el("div", null, "覆盖率未计算 Coverage not computed yet"));
        return box;
      }
      box.appendChild(el("div", null, "覆盖率 Coverage: " + percent(g.ratio)));
      box.appendChild(el("div", null, "已覆盖 Covered: " + squareMetres(g.covered_m2) + " / " +
        squareMetres(g.watchable_m2)));
      box.appendChild(el("div", null, "最大盲区 Largest gap: " + squareMetres(g.largest_gap_m2) +
        (C.present(g.gap_count) ? " (" + g.gap_count + " 处 gaps)" : "")));
      return box;
    }

    function drawChoropleth(coverage) {
      var byCode = byView ? current.gridCoverage : {}; // by view: every grid's entry seen so far
      (coverage.grids || []).forEach(function (g) { byCode[g.code] = g; });
      current.gridCoverage = byCode;
      var classes = {};
      var styled = 0;
      layers.grids.eachLayer(function (layer) {
        var p = (layer.feature && layer.feature.properties) || {};
        var g = byCode[p.code];
        var cls = g ? ratioClass(g.ratio) : null;
        current.gridLayers[p.code] = layer;
        layer.setStyle({ fillColor: cls ? cls[4] : NO_RATIO, fillOpacity: 0.72, color: "#4a4a4a", weight: 1.2,
                         opacity: 0.9 });
        layer.options.gmClass = cls ? cls[0] : "none";
        if (cls) {
          classes[cls[0]] = (classes[cls[0]] || 0) + 1;
          styled += 1;
        }
        layer.unbindTooltip();
        layer.bindTooltip(function () { return gridTooltip(p, byCode[p.code]); }, { sticky: true });
        layer.off("click", onGridClick);
        layer.on("click", onGridClick);
      });
      current.counts.grids = styled;
      current.gridClasses = classes;
      drawGridLabels(byCode);
    }

    // each grid's ratio, faintly, at its label point (not interactive: clicks reach the cameras)
    var gridLabels = [];
    function drawGridLabels(byCode) {
      var group = layers["grid-group"];
      if (!group) return;
      gridLabels.forEach(function (m) { group.removeLayer(m); });
      gridLabels = [];
      layers.grids.eachLayer(function (layer) {
        var p = (layer.feature && layer.feature.properties) || {};
        var g = byCode[p.code];
        if (!g || typeof g.ratio !== "number" || typeof p.label_lat !== "number") return;
        var label = L.marker([p.label_lat, p.label_lon], {
          icon: L.divIcon({ className: "gm-cov-grid-label", html: el("span", null, Math.round(g.ratio * 100) + "%"),
                            iconSize: [0, 0] }),
          interactive: false, keyboard: false, pane: "gm-cov-labels",
        });
        group.addLayer(label);
        gridLabels.push(label);
      });
    }

    // a click on a grid picks it for the suggestions
    function onGridClick(e) {
      var p = (e.target.feature && e.target.feature.properties) || {};
      if (!current.gridCoverage[p.code]) return;
      gridSelect.value = p.code;
    }

    function fillGridSelect(coverage) {
      var keep = gridSelect.value;
      while (gridSelect.options.length > 1) gridSelect.remove(1);
      (coverage.grids || []).slice().sort(function (a, b) {
        return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
      }).forEach(function (g) {
        var option = el("option", null, C.gridLabel(g.code) + " " + (g.name || "") + " · " + percent(g.ratio));
        option.value = g.code;
        gridSelect.appendChild(option);
      });
      gridSelect.value = keep;
    }

    function showTown(coverage) {
      var town = coverage.town || {};
      var cams = town.cameras || {};
      document.getElementById("gm-cov-town-ratio").textContent = percent(town.ratio);
      document.getElementById("gm-cov-town-area").textContent =
        squareMetres(town.covered_m2) + " / " + squareMetres(town.watchable_m2);
      ["online", "offline", "fault"].forEach(function (s) {
        document.getElementById("gm-cov-cams-" + s).textContent = String(cams[s] || 0);
      });
      if (coverage.key_places === null) return; // by view: shown with the key places in view
      var uncovered = (coverage.key_places || []).filter(function (k) { return !k.covered; }).length;
      document.getElementById("gm-cov-key-uncovered").textContent =
        uncovered + " / " + (coverage.key_places || []).length + (byView ? " (视图内 in view)" : "");
    }

    /* ---------- camera views ---------- */

    function viewStyle(status) {
      var colour = STATUS_COLOURS[status] || "#4d4d4d";
      if (status === "online") {
        return { color: colour, weight: 0.8, opacity: 0.75, fillColor: colour, fillOpacity: 0.2 };
      }
      // not counted: dashed outline, faint fill
      return { color: colour, weight: 1.6, opacity: 0.95, dashArray: "5 4", fillColor: colour, fillOpacity: 0.08 };
    }

    function drawViews(fc) {
      var feats = (fc.features || []).filter(function (f) { return !!f.geometry; });
      // online first, so the dashed (not counted) views are drawn over them
      feats.sort(function (a, b) {
        var sa = STATUS_ORDER[a.properties.status];
        var sb = STATUS_ORDER[b.properties.status];
        return (sa === undefined ? 3 : sa) - (sb === undefined ? 3 : sb);
      });
      var index = {};
      var byStatus = {};
      var geo = L.geoJSON({ type: "FeatureCollection", features: feats }, {
        pane: "gm-cov-views",
        interactive: false,
        style: function (f) { return viewStyle(f.properties.status); },
        onEachFeature: function (f, layer) {
          index[f.properties.code] = { feature: f, layer: layer };
          byStatus[f.properties.status] = (byStatus[f.properties.status] || 0) + 1;
        },
      });
      layers.views.clearLayers();
      layers.views.addLayer(geo);
      current.views = index;
      current.viewStatus = byStatus;
      current.counts.views = geo.getLayers().length;
    }

    /* ---------- gaps ---------- */

    function drawGaps(fc) {
      var geo = L.geoJSON(fc, {
        pane: "gm-cov-gaps",
        className: "gm-cov-gap",
        style: function () {
          return { color: GAP, weight: 0.9, opacity: 0.85, fillColor: GAP, fillOpacity: 1 };
        },
        onEachFeature: function (f, layer) {
          var p = f.properties || {};
          layer.bindTooltip(function () {
            var box = el("div", "gm-cov-tip");
            box.appendChild(el("strong", null, "盲区 Gap"));
            box.appendChild(el("div", null, "面积 Area: " + squareMetres(p.area_m2, 1)));
            box.appendChild(el("div", null, "网格 Grid: " + p.grid_code));
            return box;
          }, { sticky: true });
        },
      });
      layers.gaps.clearLayers();
      layers.gaps.addLayer(geo);
      current.counts.gaps = geo.getLayers().length;
    }

    /* ---------- cameras ---------- */

    function statusColour(status) {
      return STATUS_COLOURS[status] || "#4d4d4d";
    }

    // [label, value, className?] rows as <dt>/<dd> pairs; returns the <dd>s
    function rows(dl, items) {
      return items.map(function (row) {
        dl.appendChild(el("dt", null, row[0]));
        var dd = el("dd", row[2] || null, C.present(row[1]) ? row[1] : "–");
        dl.appendChild(dd);
        return dd;
      });
    }

    function cameraPopup(p) {
      var box = el("div", "gm-cov-popup");
      box.appendChild(el("div", "gm-cov-popup-title", p.name || p.code));
      var view = current.views[p.code];
      var vp = view ? view.feature.properties : null;
      var range = vp && typeof vp.range_m === "number" ? vp.range_m : p.range_m;
      var level = vp ? vp.range_level : null;
      var dori = level ? DORI_LABELS[level] || level
        : C.present(p.resolution_px) ? "低于探测 below detect" : "分辨率未知 resolution unknown";
      var status = (STATUS_LABELS[p.status] || p.status) + (p.status === "online" ? "" : " · 不计入覆盖 not counted");
      var dl = el("dl");
      var cells = rows(dl, [
        ["编码 Code", p.code, "gm-cov-code"],
        ["类型 Kind", KIND_LABELS[p.kind] || p.kind],
        ["安装 Mount", MOUNT_LABELS[p.mount] || p.mount],
        ["高度 Height", plain(p.height_m, " m")],
        ["方位 Azimuth", plain(p.azimuth_deg, "°")],
        ["视场角 FOV", plain(p.hfov_deg, "°")],
        ["距离 Range", plain(range, " m") + " · " + dori],
        ["状态 Status", status, "gm-cov-status-" + p.status],
        ["视域面积 View area", vp ? squareMetres(vp.area_m2, 1) : "…"],
      ]);
      box.appendChild(dl);
      var areaCell = cells[cells.length - 1];
      if (!vp) {
        if (current.viewsLoaded) {
          areaCell.textContent = "未计算 not computed";
        } else if (C.present(p.id)) { // the views are still loading: ask for this one
          request("GET", "/cameras/" + encodeURIComponent(p.id) + "/view").then(function (f) {
            areaCell.textContent = squareMetres(f.properties.area_m2, 1);
          }, function () {
            areaCell.textContent = "未计算 not computed";
          });
        }
      }
      return box;
    }

    // camera dots grow as the map zooms in (725 of them at town scale would hide the views)
    function cameraRadius() {
      var z = map.getZoom();
      return z <= 15 ? 2 : z <= 16 ? 2.6 : z <= 17 ? 3.5 : 5;
    }

    function cameraStyle(status, selected) {
      return {
        radius: selected ? cameraRadius() + 3 : cameraRadius(),
        color: selected ? "#111111" : "#ffffff", weight: selected ? 2.5 : 1,
        fillColor: statusColour(status), fillOpacity: 1, opacity: 1,
      };
    }

    function drawCameras(fc) {
      var index = {};
      var byStatus = {};
      var geo = L.geoJSON(fc, {
        filter: function (f) { return !!(f.geometry && f.geometry.type === "Point"); },
        pointToLayer: function (f, latlng) {
          var p = f.properties || {};
          var m = L.circleMarker(latlng, L.extend({ pane: "gm-cov-cameras", gmCode: p.code }, cameraStyle(p.status)));
          m.bindTooltip(function () {
            return el("span", null, (p.name || p.code) + " · " + (STATUS_LABELS[p.status] || p.status));
          }, { direction: "top", offset: [0, -4] });
          m.bindPopup(function () { return cameraPopup(p); }, { maxWidth: 320, autoPanPaddingTopLeft: [340, 20] });
          m.on("popupopen", function () { select(p.code, { popup: false }); });
          m.on("popupclose", function () { if (current.selected === p.code) select(null); });
          return m;
        },
        onEachFeature: function (f, layer) {
          index[f.properties.code] = { feature: f, layer: layer };
          byStatus[f.properties.status] = (byStatus[f.properties.status] || 0) + 1;
        },
      });
      layers.cameras.clearLayers();
      layers.cameras.addLayer(geo);
      current.cameras = index;
      current.cameraStatus = byStatus;
      current.counts.cameras = geo.getLayers().length;
    }

    // Selects a camera (or none): its dot ringed, its view outlined on top; opens its popup unless told not to.
    function select(code, options) {
      var opts = options || {};
      if (current.highlight) {
        map.removeLayer(current.highlight);
        current.highlight = null;
      }
      var previous = current.selected && current.cameras[current.selected];
      if (previous) previous.layer.setStyle(cameraStyle(previous.feature.properties.status));
      current.selected = null;
      if (!code) return null;
      var cam = current.cameras[code];
      var view = current.views[code];
      if (!cam && !view) return null;
      current.selected = code;
      var status = (cam || view).feature.properties.status;
      if (view) {
        current.highlight = L.geoJSON(view.feature.geometry, {
          pane: "gm-cov-selected",
          interactive: false,
          style: { color: "#111111", weight: 2.5, opacity: 1, dashArray: status === "online" ? null : "6 4",
                   fillColor: statusColour(status), fillOpacity: 0.38 },
        }).addTo(map);
      }
      if (cam) {
        cam.layer.setStyle(cameraStyle(status, true));
        cam.layer.bringToFront();
        if (opts.popup !== false && !cam.layer.isPopupOpen()) cam.layer.openPopup();
      }
      return code;
    }

    /* ---------- key places ---------- */

    function placeCentre(f) {
      var g = f.geometry;
      if (g.type === "Point") return L.latLng(g.coordinates[1], g.coordinates[0]);
      var shape = L.geoJSON(f);
      var layer = shape.getLayers()[0];
      if (layer && layer.getLatLngs && L.PolyUtil && L.PolyUtil.polygonCenter && g.type === "Polygon") {
        try {
          return L.PolyUtil.polygonCenter(layer.getLatLngs()[0], map.options.crs);
        } catch (e) { /* falls back to the box's centre */ }
      }
      return shape.getBounds().getCenter();
    }

    function placePopup(p, c) {
      var box = el("div", "gm-cov-popup");
      box.appendChild(el("div", "gm-cov-popup-title", p.name));
      var dl = el("dl");
      rows(dl, [
        ["类别 Kind", PLACE_LABELS[p.kind] || p.kind],
        c && c.covered ? ["覆盖 Covered", "是 Yes"]
          : ["覆盖 Covered", "否 No — 无在线摄像头 no online camera", "gm-cov-no"],
        ["可见比例 Seen", c && typeof c.seen_fraction === "number" ? percent(c.seen_fraction) : "–"],
        ["最佳等级 Best DORI", c && c.best_dori ? DORI_LABELS[c.best_dori] || c.best_dori : "–"],
        ["摄像头 Cameras", c && c.cameras && c.cameras.length ? c.cameras.join(", ") : "–", "gm-cov-code"],
      ]);
      box.appendChild(dl);
      return box;
    }

    function drawKeyPlaces(fc, coverage) {
      var byId = {};
      (coverage.key_places || []).forEach(function (k) { byId[String(k.id)] = k; });
      current.placeCoverage = byId;
      layers["key-uncovered"].clearLayers();
      layers["key-covered"].clearLayers();
      var nUncovered = 0;
      var nCovered = 0;
      (fc.features || []).forEach(function (f) {
        if (!f.geometry) return;
        var p = f.properties || {};
        var c = byId[String(p.id !== undefined ? p.id : f.id)];
        var centre = placeCentre(f);
        var covered = !!(c && c.covered);
        var marker;
        if (covered) {
          marker = L.circleMarker(centre, {
            pane: "gm-cov-keyplaces", radius: 3.5, color: "#ffffff", weight: 1, fillColor: "#6f8f7a", fillOpacity: 0.75,
            gmPlace: p.id,
          });
          layers["key-covered"].addLayer(marker);
          nCovered += 1;
        } else {
          if (f.geometry.type !== "Point") { // the place's outline, so its extent is visible
            layers["key-uncovered"].addLayer(L.geoJSON(f, {
              pane: "gm-cov-selected", interactive: false,
              style: { color: "#c1121f", weight: 1.5, opacity: 0.9, dashArray: "2 3", fill: false },
            }));
          }
          var icon = el("div", "gm-cov-key");
          icon.appendChild(el("span", "gm-cov-diamond"));
          icon.appendChild(el("span", "gm-cov-key-name", p.name));
          marker = L.marker(centre, {
            pane: "gm-cov-keyplaces",
            icon: L.divIcon({ className: "gm-cov-key-icon", html: icon, iconSize: [14, 14], iconAnchor: [7, 7] }),
            title: p.name, keyboard: false, gmPlace: p.id,
          });
          layers["key-uncovered"].addLayer(marker);
          nUncovered += 1;
        }
        marker.bindPopup(function () { return placePopup(p, c); }, { maxWidth: 320 });
        if (covered) marker.bindTooltip(el("span", null, p.name + " · 已覆盖 covered"), { direction: "top" });
      });
      current.counts.keyUncovered = nUncovered;
      current.counts.keyCovered = nCovered;
      declutterNames();
    }

    /* ---------- suggestions ---------- */

    function clearSuggestions() {
      layers.suggestions.clearLayers();
      C.clear(list);
      current.suggestions = [];
      current.counts.suggestions = 0;
      current.counts.suggestionViews = 0;
      clearButton.disabled = true;
    }

    // "building name (code) · 3 m": the building a site is on, or the nearest one (the API's p.building)
    function buildingText(b) {
      if (!b) return null;
      var name = C.present(b.name) ? b.name + " (" + b.code + ")" : b.code;
      return C.isNum(b.distance_m) && b.distance_m >= 1 ? name + " · " + Math.round(b.distance_m) + " m" : name;
    }

    function pointText(latlng) {
      return latlng.lng.toFixed(6) + ", " + latlng.lat.toFixed(6);
    }

    function suggestionPopup(p) {
      var box = el("div", "gm-cov-popup");
      box.appendChild(el("div", "gm-cov-popup-title", "建议点位 Suggested site " + p.rank));
      var dl = el("dl");
      rows(dl, [
        ["位置 Location", p.point],
        ["最近楼栋 Nearest building", buildingText(p.building)],
        ["安装 Mount", MOUNT_LABELS[p.mount] || p.mount],
        ["方位 Azimuth", plain(p.azimuth_deg, "°")],
        ["视场角 FOV", plain(p.hfov_deg, "°")],
        ["距离 Range", plain(p.range_m, " m")],
        ["新增覆盖 Adds", "+" + squareMetres(p.added_m2, 1)],
        ["覆盖事件 Incidents", plain(p.added_incidents, "")],
      ]);
      box.appendChild(dl);
      return box;
    }

    function drawSuggestions(fc, req) {
      clearSuggestions();
      var feats = (fc.features || []).filter(function (f) { return f.geometry && f.geometry.type === "Point"; });
      var bounds = L.latLngBounds([]);
      var views = 0;
      feats.forEach(function (f, i) {
        var p = f.properties || {};
        var rank = C.present(p.rank) ? p.rank : i + 1;
        var latlng = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
        bounds.extend(latlng);
        if (p.view) {
          var view = L.geoJSON(p.view, {
            pane: "gm-cov-sugg-views", interactive: false, className: "gm-cov-sugg-view",
            style: { color: SUGGESTED, weight: 2.2, opacity: 1, dashArray: "7 5", fillColor: SUGGESTED,
                     fillOpacity: 0.16 },
          });
          layers.suggestions.addLayer(view);
          bounds.extend(view.getBounds());
          views += view.getLayers().length;
        }
        var badge = el("div", "gm-cov-sugg-marker", rank);
        var marker = L.marker(latlng, {
          pane: "gm-cov-sugg",
          icon: L.divIcon({ className: "gm-cov-sugg-icon", html: badge, iconSize: [22, 22], iconAnchor: [11, 11] }),
          title: "建议点位 Suggested site " + rank, gmRank: rank,
        });
        marker.bindPopup(function () {
          return suggestionPopup(L.extend({}, p, { rank: rank, point: pointText(latlng) }));
        }, { maxWidth: 300 });
        layers.suggestions.addLayer(marker);

        var li = el("li", "gm-cov-sugg-item");
        li.setAttribute("data-rank", String(rank));
        li.appendChild(el("span", "gm-cov-sugg-rank", rank));
        var what = el("span", "gm-cov-sugg-what",
          (MOUNT_LABELS[p.mount] || p.mount) + " · " + plain(p.azimuth_deg, "°"));
        li.appendChild(what);
        var added = el("span", "gm-cov-sugg-added", "+" + squareMetres(p.added_m2, 1));
        added.setAttribute("data-added-m2", String(p.added_m2));
        li.appendChild(added);
        li.appendChild(el("span", "gm-cov-sugg-inc", plain(p.added_incidents, "") + " 起事件 incidents"));
        // where: the building (on it, or the nearest) and the coordinates
        var where = buildingText(p.building);
        if (where) li.appendChild(el("span", "gm-cov-sugg-where", "楼栋 Building " + where));
        li.appendChild(el("span", "gm-cov-sugg-where gm-cov-sugg-point", "坐标 " + pointText(latlng)));
        li.tabIndex = 0;
        li.title = "定位 Show on the map";
        var show = function () {
          map.setView(latlng, Math.max(map.getZoom(), 18), { animate: false });
          marker.openPopup();
        };
        li.addEventListener("click", show);
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") show(); });
        list.appendChild(li);

        current.suggestions.push({
          rank: rank, lon: latlng.lng, lat: latlng.lat, mount: p.mount, azimuth_deg: p.azimuth_deg,
          building: p.building || null,
          added_m2: p.added_m2, added_incidents: p.added_incidents,
        });
      });
      current.counts.suggestions = feats.length;
      current.counts.suggestionViews = views;
      clearButton.disabled = !feats.length;
      // show them, with their grid outlined
      var grid = req.grid && current.gridLayers[req.grid];
      if (grid) {
        bounds.extend(grid.getBounds());
        layers.suggestions.addLayer(L.geoJSON(grid.feature, {
          pane: "gm-cov-selected", interactive: false, gmGridOutline: true,
          style: { color: "#102a54", weight: 3, opacity: 0.9, fill: false },
        }));
      }
      if (bounds.isValid()) {
        var pad = C.sidePadding(map, panel, legend);
        map.fitBounds(bounds, { paddingTopLeft: [pad.left, 30], paddingBottomRight: [pad.right, 30],
                                maxZoom: 18, animate: false });
      }
    }

    function suggest(k, grid) {
      k = Number(k);
      if (!Number.isInteger(k) || k < 1 || k > maxK) {
        setStatus("error", "数量须为 1–" + maxK + " 的整数 k must be a whole number from 1 to " + maxK);
        return Promise.resolve(null);
      }
      var req = { k: k, grid: grid || null };
      var mine = ++current.suggestSequence;
      current.suggestController = C.newController(current.suggestController);
      current.suggesting = true;
      current.suggestRequest = req;
      suggestButton.disabled = true;
      setStatus("loading", "计算建议点位中 Computing suggestions" +
        (req.grid ? "…" : " for the whole town (a few seconds)…"));
      var signal = current.suggestController ? current.suggestController.signal : undefined;
      return request("POST", "/coverage/suggest", null, req, signal).then(function (fc) {
        if (mine !== current.suggestSequence) return null;
        drawSuggestions(fc, req);
        var total = current.suggestions.reduce(function (s, x) { return s + (x.added_m2 || 0); }, 0);
        var incidents = current.suggestions.reduce(function (s, x) { return s + (x.added_incidents || 0); }, 0);
        var where = req.grid ? C.gridLabel(req.grid) + " " + ((current.gridCoverage[req.grid] || {}).name || "")
          : "全镇 whole town";
        setStatus("ok", "建议 " + current.suggestions.length + " 个点位 sites (" + where.trim() + ") · 新增 adds +" +
          squareMetres(total, 1) + " · " + plain(incidents, "") + " 起事件 incidents");
        return fc;
      }, function (err) {
        if (mine !== current.suggestSequence) return null;
        setStatus("error", "建议失败 Suggestion failed: " + C.errorText(err));
        return null;
      }).then(function (result) {
        if (mine === current.suggestSequence) {
          current.suggesting = false;
          suggestButton.disabled = false;
        }
        return result;
      });
    }

    /* ---------- legend counts ---------- */

    function updateLegend() {
      C.legendCounts(legend, function (key) {
        if (key.indexOf("view-") === 0) return current.viewStatus[key.slice(5)] || 0;
        if (key === "gaps") return current.counts.gaps;
        if (key === "key-uncovered") return current.counts.keyUncovered;
        if (key === "key-covered") return current.counts.keyCovered;
        if (current.communities.length) { // zoomed out past the grids: the communities drawn, by class
          return current.communities.filter(function (c) { return c.class === key; }).length;
        }
        return current.gridClasses[key] || 0;
      });
    }

    /* ---------- the view ---------- */

    // key-place names that would overlap one shown already are hidden (class gm-cov-name-hidden), in the
    // order the places came; a zoom shows them again where there is room
    function declutterNames() {
      var names = Array.prototype.slice.call(map.getContainer().querySelectorAll(".gm-cov-key-name"));
      names.forEach(function (n) { n.classList.remove("gm-cov-name-hidden"); });
      if (!map.getContainer().classList.contains("gm-cov-names")) return;
      var kept = [];
      names.forEach(function (n) {
        var r = n.getBoundingClientRect();
        if (!r.width) return;
        var clash = kept.some(function (k) {
          return r.left < k.right + 2 && k.left < r.right + 2 && r.top < k.bottom + 1 && k.top < r.bottom + 1;
        });
        if (clash) n.classList.add("gm-cov-name-hidden");
        else kept.push(r);
      });
    }

    // names of uncovered key places only when zoomed in enough to read them; camera dots sized to the zoom
    function onZoom() {
      map.getContainer().classList.toggle("gm-cov-names", map.getZoom() >= 17);
      declutterNames();
      var radius = cameraRadius();
      Object.keys(current.cameras).forEach(function (code) {
        current.cameras[code].layer.setRadius(code === current.selected ? radius + 3 : radius);
      });
    }

    /* ---------- loading ---------- */

    function load() {
      return byView ? loadView() : loadTown();
    }

    function loaded(failures, text) {
      current.loading = false;
      updateLegend();
      if (failures.length) {
        current.error = failures.join("; ");
        setStatus("error", C.LOAD_FAILED + current.error);
      } else {
        setStatus("ok", text);
      }
      api.ready = true;
    }

    function inViewText() {
      var names = { "camera-views": "视域 views", "coverage-gaps": "盲区 gaps", cameras: "摄像头 cameras",
                    "key-places": "重点场所 key places" };
      var parts = Object.keys(current.tooMany).map(function (k) {
        return names[k] + " " + C.grouped(current.tooMany[k]) + " (> " + C.grouped(BUDGETS[k]) + ")";
      });
      return parts.length ? " · 视图内过多，请放大 too many in view, zoom in to see: " + parts.join(", ") : "";
    }

    // A city zoomed out past the grids' budget: its communities, coloured by the sums of their grids'
    // coverage (/v1/coverage?communities=true), so the whole city still shows where coverage is thin.
    // Drawn in the grids' group (the same layer-control entry); gone again once the grids fit.
    var communityLayer = null;
    function clearCommunities() {
      current.communitySequence += 1;
      if (communityLayer) layers["grid-group"].removeLayer(communityLayer);
      communityLayer = null;
      current.communities = [];
      updateLegend();
    }

    function loadCommunities() {
      var mine = ++current.communitySequence;
      var box = C.viewBox(map, window.gridmapViews.MARGIN);
      var source = { url: ogcBase + "/collections/communities/items", params: { properties: "code,name" } };
      var coverage = request("GET", "/coverage", { bbox: C.bboxParam(box), communities: "true", grids: "false",
                                                  key_places: "false" });
      var shapes = window.gridmapViews.inView(source, box, COMMUNITY_BUDGET, undefined, function (res) { return res; });
      return Promise.all([shapes, coverage]).then(function (both) {
        if (mine !== current.communitySequence) return;
        drawCommunities(both[0], both[1].communities || []);
      }, function (err) {
        if (mine === current.communitySequence) current.error = C.errorText(err);
      });
    }

    function communityTooltip(c) {
      var box = el("div", "gm-cov-tip");
      box.appendChild(el("strong", null, c.name || c.code));
      box.appendChild(el("div", "gm-cov-tip-code", c.code + " · " + c.grids + " 个网格 grids"));
      if (typeof c.ratio !== "number") {
        box.appendChild(el("div", null, "覆盖率未计算 Coverage not computed yet"));
      } else {
        box.appendChild(el("div", null, "社区覆盖率 Community coverage: " + percent(c.ratio)));
        box.appendChild(el("div", null, "已覆盖 Covered: " + squareMetres(c.covered_m2) + " / " +
          squareMetres(c.watchable_m2)));
      }
      box.appendChild(el("div", "gm-cov-tip-note", "放大查看各网格 zoom in for its grids"));
      return box;
    }

    function drawCommunities(shapes, rows) {
      if (communityLayer) layers["grid-group"].removeLayer(communityLayer);
      communityLayer = null;
      current.communities = [];
      if (!shapes.complete) return; // too many communities too: the status says to zoom in
      var byCode = {};
      rows.forEach(function (r) { byCode[r.code] = r; });
      communityLayer = L.geoJSON({ type: "FeatureCollection", features: shapes.features }, {
        style: function (f) {
          var cls = ratioClass((byCode[f.properties.code] || {}).ratio);
          return { fillColor: cls ? cls[4] : NO_RATIO, fillOpacity: 0.72, color: "#4a4a4a", weight: 1.4, opacity: 0.9 };
        },
        onEachFeature: function (f, layer) {
          var c = byCode[f.properties.code] || { code: f.properties.code, name: f.properties.name, grids: 0 };
          layer.bindTooltip(function () { return communityTooltip(c); }, { sticky: true });
        },
      });
      layers["grid-group"].addLayer(communityLayer);
      current.communities = shapes.features.map(function (f) {
        var c = byCode[f.properties.code] || {};
        var cls = ratioClass(c.ratio);
        return { code: f.properties.code, ratio: typeof c.ratio === "number" ? c.ratio : null,
                 class: cls ? cls[0] : "none" };
      });
      updateLegend();
    }

    // a city: the box in view (plus a margin), each layer from /ogc within its budget
    function loadView() {
      var mine = ++current.sequence;
      var box = C.viewBox(map, window.gridmapViews.MARGIN);
      var bbox = C.bboxParam(box);
      current.box = box;
      current.loading = true;
      current.error = null;
      current.viewsLoaded = false;
      current.tooMany = {};
      setStatus("loading", C.LOADING);
      var failures = [];
      function fresh() { return mine === current.sequence; }
      function job(promise) {
        return promise.catch(function (err) { if (fresh()) failures.push(C.errorText(err)); });
      }
      // collection -> draw(features) when all of the box's are at hand, within the budget
      function layer(collection, draw) {
        var source = { url: ogcBase + "/collections/" + collection + "/items", params: {} };
        return job(window.gridmapViews.inView(source, box, BUDGETS[collection] || 1000, undefined, function (res) {
          if (!fresh()) return null;
          if (!res.complete) current.tooMany[collection] = res.matched;
          return draw({ type: "FeatureCollection", features: res.features });
        }));
      }
      var jobs = [
        job(request("GET", "/coverage", { bbox: bbox, key_places: "false" }).then(function (body) {
          if (!fresh()) return;
          current.coverage = body;
          drawChoropleth(body);
          fillGridSelect(body);
          showTown(body);
        })),
        layer("camera-views", function (fc) { drawViews(fc); current.viewsLoaded = true; }),
        layer("coverage-gaps", drawGaps),
        layer("cameras", drawCameras),
        layer("key-places", function (fc) {
          if (!fc.features.length) return drawKeyPlaces(fc, { key_places: [] });
          return request("GET", "/coverage", { bbox: bbox, grids: "false" }).then(function (body) {
            if (!fresh()) return;
            drawKeyPlaces(fc, body);
            showTown(L.extend({}, current.coverage || {}, { key_places: body.key_places }));
          });
        }),
      ];
      return Promise.all(jobs).then(function () {
        if (!fresh()) return;
        loaded(failures, current.counts.views + " 个视域 views · " + current.counts.gaps + " 处盲区 gaps · " +
          current.counts.cameras + " 个摄像头 cameras · 视图内 in view" + inViewText());
      });
    }

    function loadTown() {
      current.loading = true;
      current.error = null;
      current.viewsLoaded = false;
      setStatus("loading", C.LOADING);
      var failures = [];
      function job(promise, apply) {
        return promise.then(apply, function (err) {
          failures.push(C.errorText(err));
        });
      }
      var coverage = request("GET", "/coverage");
      var places = request("GET", "/key-places");
      var jobs = [
        job(coverage, function (body) {
          current.coverage = body;
          drawChoropleth(body);
          fillGridSelect(body);
          showTown(body);
        }),
        job(request("GET", "/coverage/views"), function (body) {
          drawViews(body);
          current.viewsLoaded = true;
        }),
        job(request("GET", "/coverage/gaps"), drawGaps),
        job(request("GET", "/cameras"), drawCameras),
        job(Promise.all([places, coverage]), function (both) { drawKeyPlaces(both[0], both[1]); }),
      ];
      return Promise.all(jobs).then(function () {
        loaded(failures, current.counts.views + " 个视域 views · " + current.counts.gaps + " 处盲区 gaps · " +
          current.counts.grids + " 个网格 grids");
      });
    }

    /* ---------- wiring ---------- */

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      suggest(kInput.value, gridSelect.value);
    });
    clearButton.addEventListener("click", function () {
      current.suggestSequence += 1; // an answer still on its way is dropped
      if (current.suggestController) current.suggestController.abort();
      current.suggesting = false;
      suggestButton.disabled = false;
      clearSuggestions();
      setStatus("ok", "已清除建议 Suggestions cleared");
    });
    map.on("zoomend", onZoom);
    map.on("overlayadd", declutterNames);

    // the whole town, between the panel and the legend
    C.fitTown(map, byView ? C.boundsOf(data.bounds) : layers.grids.getBounds(), panel, legend);
    onZoom();
    if (byView) {
      // grids byview.js draws later get the ratios seen so far; a view out of the box loads again
      layers.grids.on("gm:loaded", function (e) {
        drawChoropleth({ grids: [] });
        updateLegend();
        if (e.complete) clearCommunities(); else loadCommunities(); // too many grids: their communities
      });
      var moved = null;
      map.on("moveend", function () {
        // inside the box, nothing new to see, unless a layer had too many there (zoomed in, it may fit)
        if (current.box && current.box.contains(map.getBounds()) && !Object.keys(current.tooMany).length) return;
        if (moved) window.clearTimeout(moved);
        current.loading = true;
        moved = window.setTimeout(function () { moved = null; load(); }, 200);
      });
    }

    var api = {
      ready: false,
      map: map,
      layers: layers,
      select: function (code) { return select(code); },
      suggest: suggest,
      clearSuggestions: clearSuggestions,
      reload: load,
      state: function () {
        var town = current.coverage ? current.coverage.town : null;
        return {
          loading: current.loading,
          error: current.error,
          town: town,
          counts: L.extend({}, current.counts),
          gridClasses: L.extend({}, current.gridClasses),
          viewStatus: L.extend({}, current.viewStatus),
          cameraStatus: L.extend({}, current.cameraStatus),
          selected: current.selected,
          highlighted: current.highlight ? current.highlight.getLayers().length : 0,
          suggesting: current.suggesting,
          suggestRequest: current.suggestRequest,
          suggestions: current.suggestions.slice(),
          zoom: map.getZoom(),
          byView: byView,
          bbox: current.box ? [current.box.getWest(), current.box.getSouth(), current.box.getEast(),
                               current.box.getNorth()] : null,
          tooMany: L.extend({}, current.tooMany),
          communities: current.communities.slice(),
        };
      },
    };
    window.gridmapCoverage = api;
    load();
    return true;
  }

  C.start(init, "gridmap coverage: no Leaflet map with the coverage layers here");
})();
