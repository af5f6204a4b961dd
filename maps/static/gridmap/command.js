/*
 * gridmap command-centre page (/maps/command): incident heat (with a weekly time slider),
 * Getis–Ord Gi* hot spots and clustered incidents, filtered by time window and category.
 * Built by maps/command.py; loaded with <script defer> (after leaflet-heat.js) so it runs
 * after folium's inline script has made the map and the (empty) layers.
 *
 * Finding what folium drew (gridmapCommon.findPage in common.js, loaded just before this):
 *  - the map: the L.Map among window's properties whose container holds the panel (#gm-command);
 *  - the layers: the Leaflet layers with options.gmLayer "grids", "grid-group", "buildings",
 *    "heat" and "hotspots" (empty L.featureGroups this script fills) and "incidents" (an empty
 *    L.markerClusterGroup); maps/command.py passes gm_layer=..., folium forwards it;
 *  - settings: data-* attributes of #gm-command (API base, month range, default window,
 *    lattice sizes, class and state colours).
 *
 * Data, same-origin fetches (gridmapCommon.getJSON; the HttpOnly session cookie authenticates):
 *  - GET /v1/heatmap?format=points  -> the whole window's density (Leaflet.heat);
 *  - GET /v1/heatmap?format=weekly  -> one frame per week on one lattice (the slider);
 *  - GET /v1/hotspots               -> Gi* cells; the significant ones are drawn by class;
 *  - GET /v1/incidents              -> circle markers by state, clustered (paged if large).
 * A city (data-by-view="1": grids and buildings too many to embed, loaded by view by byview.js):
 * every request carries bbox= (the view plus a quarter on each side); the lattices are coarsened for
 * a wide view so that each analysis stays within its budget (the cell sizes used are shown); the
 * incidents are drawn only when at most VIEW_INCIDENTS lie in the box (else the status says how many
 * and to zoom in; heat and hot spots still count them all); everything reloads when the map leaves
 * the box or zooms in two levels or more.
 * Everything from the API goes into the DOM with textContent, never innerHTML.
 *
 * Test hook: window.gridmapCommand = {state() -> filters, frame, counts drawn, loading, loads;
 * ready; map; layers; setFrame(k); play(); pause(); reload()}.
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var el = C.el;
  var number = C.number;
  var PANEL_ID = "gm-command";
  var OPEN_STATES = { reported: 1, accepted: 1, assigned: 1, assisting: 1 };
  var MAX_INCIDENTS = 50000; // drawn at most (the API pages at 10,000)
  var PAGE = 10000;
  // by view (a city): markers drawn at most in the box; the most cells the page asks of each lattice
  // (the API's budgets, GRIDMAP_BUDGET_*, are 1,000,000 KDE cells, 500,000 weekly frame cells and
  // 1,000,000 Gi* weights, ~9 per cell)
  var VIEW_INCIDENTS = 5000; // data-view-incidents (maps/command.py VIEW_INCIDENTS)
  var VIEW_HEAT_CELLS = 400000;
  var VIEW_WEEKLY_CELLS = 450000; // the padded box is never smaller than the lattice the API lays (cut to the communities)
  var VIEW_HOT_CELLS = 60000;
  var VIEW_MARGIN = 0.25;
  // the API's largest cells (/v1/heatmap cell_m <= 500, /v1/hotspots cell_m <= 2000): a view that needs
  // coarser ones is not analysed (the status says to zoom in)
  var MAX_HEAT_CELL = 500;
  var MAX_HOT_CELL = 2000;
  var PLAY_MS = 900;
  // Leaflet.heat's gradient (simpleheat's default), also drawn in the legend (command.css).
  var HEAT_GRADIENT = { 0.25: "#2c7bb6", 0.45: "#00c4d4", 0.6: "#7fdc4a", 0.78: "#ffe03a", 1.0: "#e0241b" };

  /* ---------- small helpers (text only) ---------- */

  function nextMonth(month) { // "2026-11" -> "2026-12"
    var y = parseInt(month.slice(0, 4), 10);
    var m = parseInt(month.slice(5, 7), 10);
    return m === 12 ? (y + 1) + "-01" : y + "-" + (m < 9 ? "0" : "") + (m + 1);
  }

  function localTime(iso) { // "2026-11-30T21:22:40+08:00" -> "2026-11-30 21:22 (+08:00)"
    if (!C.present(iso)) return "–";
    var s = String(iso);
    var zone = s.length > 19 ? s.slice(19).replace(/^\.\d+/, "") : "";
    return s.slice(0, 10) + " " + s.slice(11, 16) + (zone ? " (" + zone + ")" : "");
  }

  function metresPerPixel(map) {
    var lat = map.getCenter().lat * Math.PI / 180;
    return 40075016.686 * Math.cos(lat) / Math.pow(2, map.getZoom() + 8);
  }

  function clamp(v, lo, hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  /* ---------- a heat layer on a fixed scale ---------- */

  /*
   * Leaflet.heat scales every redraw to its densest screen bin, so two frames (or the same
   * frame at two zooms) could not be compared. The API's values are already on one scale
   * (0..1: the window's peak density, or for weekly frames the peak over all weeks), so this
   * layer keeps it: the blob radius follows the lattice spacing on screen, and the maximum is
   * what value 1 everywhere would add up to (lattice points per bin x circles overlapping a
   * pixel), whatever the zoom. Only _redraw differs from Leaflet.heat 0.2.
   */
  var FixedHeat = L.HeatLayer.extend({
    _redraw: function () {
      var map = this._map;
      if (!map) return;
      var heat = this._heat;
      var mpp = metresPerPixel(map);
      var spacing = (this.options.latticeM || 10) / mpp; // px between lattice points
      // up to the lattice spacing at any zoom: no polka dots when zoomed in on one building
      var radius = clamp(Math.round(spacing * 1.6), 5, 250);
      var blur = clamp(Math.round(radius * 0.9), 5, 225);
      if (radius !== this._gmRadius || blur !== this._gmBlur) {
        heat.radius(radius, blur);
        this._gmRadius = radius;
        this._gmBlur = blur;
      }
      var r = heat._r; // radius + blur: how far one circle reaches
      var size = map.getSize();
      // Screen bins of r/2 (as Leaflet.heat), but each lattice point is split between its four
      // nearest bin centres (bilinear): binning whole points would alias the regular lattice
      // against the bins into a moire of blotches that moves as the map pans.
      var cellSize = Math.max(r / 2, 1);
      var x0 = -r - cellSize;
      var y0 = -r - cellSize;
      var nx = Math.ceil((size.x - 2 * x0) / cellSize) + 1;
      var ny = Math.ceil((size.y - 2 * y0) / cellSize) + 1;
      var sums = new Float64Array(nx * ny);
      var latlngs = this._latlngs;
      var i, k, len, p, fx, fy, ix, iy, tx, ty, w;
      for (i = 0, len = latlngs.length; i < len; i++) {
        p = map.latLngToContainerPoint(latlngs[i]);
        fx = (p.x - x0) / cellSize - 0.5;
        fy = (p.y - y0) / cellSize - 0.5;
        ix = Math.floor(fx);
        iy = Math.floor(fy);
        if (ix < 0 || iy < 0 || ix >= nx - 1 || iy >= ny - 1) continue;
        tx = fx - ix;
        ty = fy - iy;
        w = latlngs[i][2] !== undefined ? +latlngs[i][2] : 1;
        k = iy * nx + ix;
        sums[k] += w * (1 - tx) * (1 - ty);
        sums[k + 1] += w * tx * (1 - ty);
        sums[k + nx] += w * (1 - tx) * ty;
        sums[k + nx + 1] += w * tx * ty;
      }
      // Value 1 everywhere: (cellSize / spacing)^2 per bin, times about pi r^2 / cellSize^2
      // circles over each pixel; gain sets where the gradient tops out.
      var max = Math.PI * r * r / (spacing * spacing) * (this.options.gain || 0.07);
      heat.max(max);
      var data = [];
      for (k = 0, len = sums.length; k < len; k++) {
        if (sums[k] <= 0) continue;
        data.push([Math.round(x0 + (k % nx + 0.5) * cellSize), Math.round(y0 + (Math.floor(k / nx) + 0.5) * cellSize),
                   Math.min(sums[k], max)]);
      }
      heat.data(data).draw(this.options.minOpacity);
      this._frame = null;
    },
  });

  /* ---------- the page ---------- */

  function init() {
    var page = C.findPage(PANEL_ID, ["heat", "hotspots", "incidents"]);
    if (!page || typeof L.HeatLayer !== "function") return false;
    var panel = page.panel, map = page.map, layers = page.layers;

    var data = panel.dataset;
    var apiBase = C.apiBase(panel);
    var bandwidthM = Number(data.bandwidthM) || 50;
    var heatCellM = Number(data.heatCellM) || 10;
    var weeklyCellM = Number(data.weeklyCellM) || 20;
    var hotspotCellM = Number(data.hotspotCellM) || 100;
    var CLASSES = C.parseJSON(data.classes, {}); // class -> [label, colour]
    var STATES = C.parseJSON(data.states, {}); // state -> [label, colour]
    var CATEGORIES = C.parseJSON(data.categories, {}); // category -> label
    var SUBCATEGORIES = C.parseJSON(data.subcategories, {}); // "category.subcategory" -> label
    var HOTSPOT_TIPS = C.parseJSON(data.hotspotTips, {}); // Gi* class -> "显著热点 99 % significant hot spot"
    var ALL_CATEGORIES = Object.keys(CATEGORIES);
    var byView = data.byView === "1";
    if (byView && Number(data.viewIncidents) >= 1) VIEW_INCIDENTS = Number(data.viewIncidents);

    var fromInput = document.getElementById("gm-cmd-from");
    var toInput = document.getElementById("gm-cmd-to");
    var fdrInput = document.getElementById("gm-cmd-fdr");
    var slider = document.getElementById("gm-cmd-week-slider");
    var playButton = document.getElementById("gm-cmd-play");
    var allButton = document.getElementById("gm-cmd-all");
    var weekIndexText = document.getElementById("gm-cmd-week-index");
    var weekText = document.getElementById("gm-cmd-week");
    var weekCountText = document.getElementById("gm-cmd-week-n");
    var statusBox = document.getElementById("gm-cmd-status");
    var categoryInputs = Array.prototype.slice.call(panel.querySelectorAll('input[name="category"]'));
    var legend = document.querySelector(".gm-cmd-legend");

    map.getContainer().classList.add("gm-command-map");

    /* panes: heat over the grids, the significant cells over the heat, labels and incidents on top */
    [["gm-heat", 405], ["gm-cells", 410], ["gm-labels", 415], ["gm-incidents", 420]].forEach(function (p) {
      C.pane(map, p[0], p[1], p[0] === "gm-heat" || p[0] === "gm-labels");
    });

    /* ---------- grid labels, faint ---------- */

    if (layers.grids && layers["grid-group"]) {
      layers.grids.eachLayer(function (layer) {
        var p = (layer.feature && layer.feature.properties) || {};
        if (typeof p.label_lat !== "number" || typeof p.label_lon !== "number") return;
        layers["grid-group"].addLayer(L.marker([p.label_lat, p.label_lon], {
          icon: L.divIcon({ className: "gm-cmd-grid-label", html: el("span", null, p.label), iconSize: [0, 0] }),
          interactive: false,
          keyboard: false,
          pane: "gm-labels",
        }));
      });
    }

    /* ---------- layers ---------- */

    var heat = new FixedHeat([], {
      pane: "gm-heat", minOpacity: 0.002, gradient: HEAT_GRADIENT, latticeM: heatCellM, gain: 0.07,
    });
    layers.heat.addLayer(heat);

    var cluster = layers.incidents;
    cluster.options.iconCreateFunction = clusterIcon;
    cluster.options.disableClusteringAtZoom = 18; // a building's incidents, one by one

    var cells = null; // L.GeoJSON of the significant cells, inside layers.hotspots

    /* ---------- state ---------- */

    var current = {
      filters: null,
      aggregate: null, // /v1/heatmap?format=points body
      weekly: null, // /v1/heatmap?format=weekly body
      hotspots: null,
      frame: -1, // -1: the whole window; k: weekly frame k
      playing: false,
      timer: null,
      incidents: 0,
      incidentsTotal: 0,
      states: {},
      overdue: 0,
      classes: {},
      loading: false,
      loads: 0,
      error: null,
      sequence: 0,
      controller: null,
      tooMany: false, // by view: more incidents in the box than VIEW_INCIDENTS (none drawn)
      box: null, // by view: the box of the latest load, its zoom and lattices
      zoom: null,
      cells: null,
    };

    function readFilters() {
      return {
        from: fromInput.value,
        to: toInput.value,
        categories: categoryInputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; }),
        fdr: !!fdrInput.checked,
      };
    }

    // The API parameters of a filter set: dates are 00:00 town time; "to" is the first day after the last month.
    function windowParams(f) {
      var params = { from: f.from + "-01", to: nextMonth(f.to) + "-01" };
      if (f.categories.length < ALL_CATEGORIES.length) params.category = f.categories.join(",");
      return params;
    }

    function withParams(params, extra) {
      var out = {};
      Object.keys(params).forEach(function (k) { out[k] = params[k]; });
      Object.keys(extra).forEach(function (k) { out[k] = extra[k]; });
      return out;
    }

    function getJSON(path, params, signal) {
      return C.getJSON(apiBase, path, params, signal);
    }

    /* ---------- the heat layer and the week slider ---------- */

    function frames() {
      return (current.weekly && current.weekly.frames) || [];
    }

    function showHeat() {
      var k = current.frame;
      var list = frames();
      if (k >= 0 && k < list.length) {
        heat.options.latticeM = (current.weekly && current.weekly.cell_m) || weeklyCellM;
        heat.setLatLngs(list[k].points || []);
        weekIndexText.textContent = "第 " + (k + 1) + "/" + list.length + " 周 Week";
        weekText.textContent = list[k].week;
        weekCountText.textContent = String(number(list[k].n));
        slider.value = String(k);
        slider.classList.add("gm-active");
      } else {
        current.frame = -1;
        heat.options.latticeM = (current.aggregate && current.aggregate.cell_m) || heatCellM;
        heat.setLatLngs((current.aggregate && current.aggregate.points) || []);
        weekIndexText.textContent = "全部 All";
        var f = current.filters;
        weekText.textContent = f ? f.from + " – " + f.to : "全时段 Whole window";
        weekCountText.textContent = current.aggregate ? String(number(current.aggregate.n_incidents)) : "–";
        slider.classList.remove("gm-active");
      }
      allButton.disabled = current.frame < 0;
    }

    function setFrame(k) {
      var list = frames();
      if (!list.length) return;
      current.frame = clamp(Math.round(k), 0, list.length - 1);
      showHeat();
    }

    function setPlayButton() {
      playButton.textContent = current.playing ? "❚❚ 暂停 Pause" : "▶ 播放 Play";
      playButton.setAttribute("aria-pressed", current.playing ? "true" : "false");
    }

    function play() {
      if (current.playing || !frames().length) return;
      current.playing = true;
      if (current.frame < 0) setFrame(0);
      current.timer = window.setInterval(function () {
        var list = frames();
        if (!list.length) return pause();
        setFrame((current.frame + 1) % list.length);
      }, PLAY_MS);
      setPlayButton();
    }

    function pause() {
      current.playing = false;
      if (current.timer !== null) window.clearInterval(current.timer);
      current.timer = null;
      setPlayButton();
    }

    function updateSlider() {
      var list = frames();
      slider.max = String(Math.max(0, list.length - 1));
      slider.disabled = !list.length;
      playButton.disabled = !list.length;
      if (!list.length) pause();
      if (current.frame >= list.length) current.frame = list.length - 1;
    }

    /* ---------- hot spots ---------- */

    function cellTooltip(p) {
      var box = el("div", "gm-cmd-tip");
      var cls = CLASSES[p["class"]];
      box.appendChild(el("strong", null, HOTSPOT_TIPS[p["class"]] || (cls ? cls[0] : p["class"])));
      box.appendChild(el("div", null, "事件 incidents: " + p.count));
      box.appendChild(el("div", null, "z = " + Number(p.z).toFixed(2) + ", p = " + Number(p.p).toPrecision(2) +
        (C.present(p.p_fdr) ? ", p(FDR) = " + Number(p.p_fdr).toPrecision(2) : "")));
      return box;
    }

    function drawHotspots(fc) {
      if (cells) layers.hotspots.removeLayer(cells);
      var counts = {};
      (fc.features || []).forEach(function (f) {
        var c = f.properties && f.properties["class"];
        counts[c] = (counts[c] || 0) + 1;
      });
      current.classes = counts;
      cells = L.geoJSON(fc, {
        pane: "gm-cells",
        filter: function (f) {
          return !!(f.properties && CLASSES[f.properties["class"]]); // not_significant: not drawn
        },
        style: function (f) {
          var colour = CLASSES[f.properties["class"]][1];
          return { color: colour, weight: 1.5, opacity: 0.95, fillColor: colour, fillOpacity: 0.3 };
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(function () { return cellTooltip(f.properties); }, { sticky: true });
        },
      });
      layers.hotspots.addLayer(cells);
    }

    /* ---------- incidents ---------- */

    function stateColour(state) {
      return STATES[state] ? STATES[state][1] : "#444444";
    }

    function popup(p) {
      var box = el("div", "gm-cmd-popup");
      var title = CATEGORIES[p.category] || p.category;
      var sub = C.present(p.subcategory) ? SUBCATEGORIES[p.category + "." + p.subcategory] || p.subcategory : "";
      box.appendChild(el("div", "gm-cmd-popup-title", title + (sub ? " · " + sub : "")));
      var dl = el("dl");
      var rows = [
        ["类别 Category", title + (sub ? " / " + sub : "")],
        ["状态 State", p.status_label || p.status],
        ["时间 Time", localTime(p.occurred_at)],
        ["网格 Grid", p.grid_code || "网格外 outside grids"],
        ["逾期 Overdue", p.overdue ? "是 Yes" : "否 No"],
        ["处理人 Assignee", p.assignee],
        ["编号 Ref", p.ref],
      ];
      rows.forEach(function (row) {
        if (!C.present(row[1])) return;
        dl.appendChild(el("dt", null, row[0]));
        var dd = el("dd", row[0] === "逾期 Overdue" && p.overdue ? "gm-cmd-overdue" : null, row[1]);
        dl.appendChild(dd);
      });
      box.appendChild(dl);
      if (C.present(p.description)) box.appendChild(el("p", "gm-cmd-popup-text", p.description));
      return box;
    }

    function marker(f) {
      var p = f.properties || {};
      var c = f.geometry.coordinates;
      var m = L.circleMarker([c[1], c[0]], {
        pane: "gm-incidents",
        radius: 6,
        color: p.overdue ? "#e31a1c" : "#ffffff",
        weight: p.overdue ? 2.5 : 1.2,
        fillColor: stateColour(p.status),
        fillOpacity: 0.95,
        gmId: p.id,
        gmState: p.status,
        gmOverdue: !!p.overdue,
      });
      m.bindPopup(function () { return popup(p); }, { maxWidth: 300 });
      return m;
    }

    function clusterIcon(group) {
      var children = group.getAllChildMarkers();
      var n = children.length;
      var byState = {};
      var overdue = 0;
      var open = 0;
      children.forEach(function (m) {
        var s = m.options.gmState;
        byState[s] = (byState[s] || 0) + 1;
        if (m.options.gmOverdue) overdue += 1;
        if (OPEN_STATES[s]) open += 1;
      });
      // a ring of the states' shares (in legend order), the count in the middle
      var stops = [];
      var acc = 0;
      Object.keys(STATES).forEach(function (s) {
        if (!byState[s]) return;
        var a = acc / n * 360;
        acc += byState[s];
        stops.push(STATES[s][1] + " " + a.toFixed(1) + "deg " + (acc / n * 360).toFixed(1) + "deg");
      });
      var size = n < 10 ? 26 : n < 50 ? 30 : n < 200 ? 36 : 42;
      var ring = el("div", "gm-cmd-cluster");
      if (stops.length) ring.style.background = "conic-gradient(" + stops.join(", ") + ")";
      ring.appendChild(el("span", null, n));
      if (overdue) ring.appendChild(el("b", "gm-cmd-badge", overdue)); // overdue ones, in red
      ring.title = n + " 起事件 incidents · " + open + " 办理中 open" +
        (overdue ? " · " + overdue + " 逾期 overdue" : "");
      return L.divIcon({ html: ring, className: "gm-cmd-cluster-icon", iconSize: L.point(size, size) });
    }

    function fetchIncidents(params, signal) {
      if (byView) { // one page: drawn when at most VIEW_INCIDENTS lie in the box
        return getJSON("/incidents", withParams(params, { limit: VIEW_INCIDENTS }), signal).then(function (body) {
          var many = body.total > VIEW_INCIDENTS;
          return { features: many ? [] : body.features || [], total: body.total, tooMany: many };
        });
      }
      var features = [];
      var total = 0;
      function page(offset) {
        return getJSON("/incidents", withParams(params, { limit: PAGE, offset: offset }), signal).then(function (body) {
          total = body.total;
          features = features.concat(body.features || []);
          var got = (body.features || []).length;
          if (got && features.length < total && features.length < MAX_INCIDENTS) return page(offset + got);
          return { features: features, total: total };
        });
      }
      return page(0);
    }

    function drawIncidents(result) {
      var states = {};
      var overdue = 0;
      var markers = result.features.filter(function (f) {
        return f.geometry && f.geometry.type === "Point";
      }).map(function (f) {
        var s = f.properties.status;
        states[s] = (states[s] || 0) + 1;
        if (f.properties.overdue) overdue += 1;
        return marker(f);
      });
      cluster.clearLayers();
      cluster.addLayers(markers);
      current.incidents = cluster.getLayers().length;
      current.incidentsTotal = result.total;
      current.tooMany = !!result.tooMany;
      current.states = states;
      current.overdue = overdue;
    }

    function clearAll() {
      current.aggregate = null;
      current.weekly = null;
      if (cells) layers.hotspots.removeLayer(cells);
      cells = null;
      current.classes = {};
      cluster.clearLayers();
      current.incidents = 0;
      current.incidentsTotal = 0;
      current.states = {};
      current.overdue = 0;
      updateSlider();
      showHeat();
    }

    /* ---------- status line and legend counts ---------- */

    function hotCount(prefix) {
      return Object.keys(current.classes).reduce(function (sum, c) {
        return c.indexOf(prefix) === 0 ? sum + current.classes[c] : sum;
      }, 0);
    }

    function setStatus(kind, text) {
      C.setStatus(statusBox, kind, text);
    }

    function updateLegend() {
      C.legendCounts(legend, function (key) {
        var n = key === "overdue" ? current.overdue
          : Object.prototype.hasOwnProperty.call(STATES, key) ? current.states[key] || 0
            : current.classes[key] || 0;
        return number(n);
      });
    }

    function summary() {
      var text = number(current.incidents) + " 起事件 incidents";
      if (current.tooMany) {
        text = number(current.incidentsTotal) + " 起事件在视图中 incidents in view — 放大逐个查看 zoom in to see them " +
          "one by one (at most " + number(VIEW_INCIDENTS) + ")";
      } else if (current.incidentsTotal > current.incidents) {
        text += " (共 of " + number(current.incidentsTotal) + ")";
      }
      text += " · " + hotCount("hot_") + " 热点 hot · " + hotCount("cold_") + " 冷点 cold cells";
      if (current.filters && current.filters.fdr) text += " (FDR)";
      if (byView && current.cells) {
        var c = current.cells;
        var shown = [], wide = [];
        (c.heat ? shown : wide).push(c.heat ? "热力 heat " + c.heat + " m" : "热力 heat");
        (c.weekly ? shown : wide).push(c.weekly ? "逐周 weekly " + c.weekly + " m" : "逐周 weekly");
        (c.hot ? shown : wide).push(c.hot ? "热点 hot spots " + c.hot + " m" : "热点 hot spots");
        text += " · 视图内 in view";
        if (shown.length) text += "; 格网 cells: " + shown.join(", ");
        if (wide.length) text += " · 视图太大，请放大 view too wide, zoom in for: " + wide.join(", ");
      }
      return text;
    }

    /* ---------- by view: the box asked for, and lattices coarse enough for it ---------- */

    // 1, 2, 2.5, 5 x 10^k at or above x
    function niceCeil(x) {
      var p = Math.pow(10, Math.floor(Math.log(x) / Math.LN10));
      var steps = [1, 2, 2.5, 5, 10];
      for (var i = 0; i < steps.length; i++) if (steps[i] * p >= x) return steps[i] * p;
      return 10 * p;
    }

    // the box's width and height in metres (spherical; the API measures in its metric CRS)
    function boxMetres(box) {
      var mid = (box.getSouth() + box.getNorth()) / 2 * Math.PI / 180;
      return [(box.getEast() - box.getWest()) * 111320 * Math.cos(mid), (box.getNorth() - box.getSouth()) * 110574];
    }

    // the smallest nice cell at or above base that puts at most maxCells cells (times frames) on the box
    // grown by pad metres on each side
    function cellFor(base, box, maxCells, frames, pad) {
      var wh = boxMetres(box);
      var need = Math.sqrt((wh[0] + 2 * pad) * (wh[1] + 2 * pad) * frames / maxCells);
      return need <= base ? base : niceCeil(need);
    }

    function weeksIn(f) {
      var a = Date.parse(f.from + "-01T00:00:00Z"), b = Date.parse(nextMonth(f.to) + "-01T00:00:00Z");
      return Math.ceil((b - a) / (7 * 864e5)) + 1;
    }

    // the lattices of one load: the page's settings, coarsened by view when a city's box is wide
    function lattices(f, box) {
      if (!box) return { heat: heatCellM, heatBw: bandwidthM, weekly: weeklyCellM, weeklyBw: bandwidthM,
                         hot: hotspotCellM };
      var heat = cellFor(heatCellM, box, VIEW_HEAT_CELLS, 1, 0);
      var heatBw = Math.max(bandwidthM, heat);
      heat = cellFor(heatCellM, box, VIEW_HEAT_CELLS, 1, 4 * heatBw); // the KDE pads 4 bandwidths
      var weeks = weeksIn(f);
      var weekly = cellFor(weeklyCellM, box, VIEW_WEEKLY_CELLS, weeks, 0);
      var weeklyBw = Math.max(bandwidthM, weekly);
      weekly = cellFor(weeklyCellM, box, VIEW_WEEKLY_CELLS, weeks, 4 * weeklyBw);
      var hot = cellFor(hotspotCellM, box, VIEW_HOT_CELLS, 1, 0);
      return { heat: heat <= MAX_HEAT_CELL ? heat : null, heatBw: Math.max(bandwidthM, heat),
               weekly: weekly <= MAX_HEAT_CELL ? weekly : null, weeklyBw: Math.max(bandwidthM, weekly),
               hot: hot <= MAX_HOT_CELL ? hot : null };
    }

    /* ---------- loading ---------- */

    // what: {heat: bool, hotspots: bool, incidents: bool}; the heat includes the weekly frames.
    function load(what) {
      var f = readFilters();
      var mine = ++current.sequence;
      current.controller = C.newController(current.controller);
      var signal = current.controller ? current.controller.signal : undefined;
      current.filters = f;
      current.error = null;

      if (!f.from || !f.to || f.from > f.to) {
        current.error = "bad_window";
        current.loading = false;
        current.loads += 1;
        clearAll();
        updateLegend();
        return setStatus("error", "起始月份不能晚于结束月份 'From' must be a month on or before 'To'");
      }
      if (!f.categories.length) {
        current.loading = false;
        current.loads += 1;
        clearAll();
        updateLegend();
        return setStatus("empty", "未选择类别 No category selected");
      }

      current.loading = true;
      setStatus("loading", C.LOADING);
      var params = windowParams(f);
      var box = byView ? C.viewBox(map, VIEW_MARGIN) : null;
      var cellsOf = lattices(f, box);
      if (box) {
        params.bbox = C.bboxParam(box);
        current.box = box;
        current.zoom = map.getZoom();
        current.cells = cellsOf;
      }
      var jobs = [];
      // each job applies its answer only if no newer load has started since
      function job(promise, apply) {
        jobs.push(promise.then(function (body) { if (mine === current.sequence) apply(body); }));
      }
      if (what.heat) {
        var heatParams = { format: "points", bandwidth_m: cellsOf.heatBw, cell_m: cellsOf.heat };
        var weeklyParams = { format: "weekly", bandwidth_m: cellsOf.weeklyBw, cell_m: cellsOf.weekly };
        if (cellsOf.heat) {
          job(getJSON("/heatmap", withParams(params, heatParams), signal), function (body) {
            current.aggregate = body;
          });
        } else {
          current.aggregate = null;
        }
        if (cellsOf.weekly) {
          job(getJSON("/heatmap", withParams(params, weeklyParams), signal), function (body) {
            current.weekly = body;
            updateSlider();
          });
        } else {
          current.weekly = null;
          updateSlider();
        }
      }
      if (what.hotspots && !cellsOf.hot) {
        if (cells) layers.hotspots.removeLayer(cells);
        cells = null;
        current.classes = {};
      } else if (what.hotspots) {
        var hotParams = { cell_m: cellsOf.hot, fdr: f.fdr ? "true" : "false" };
        job(getJSON("/hotspots", withParams(params, hotParams), signal), function (body) {
          current.hotspots = body;
          drawHotspots(body);
        });
      }
      if (what.incidents) job(fetchIncidents(params, signal), drawIncidents);
      return Promise.all(jobs).then(function () {
        if (mine !== current.sequence) return;
        showHeat();
        current.loading = false;
        current.loads += 1;
        updateLegend();
        setStatus("ok", summary());
        if (!api.ready) api.ready = true;
      }, function (err) {
        if (mine !== current.sequence) return; // superseded (and aborted) by a newer load
        current.loading = false;
        current.loads += 1;
        current.error = C.errorText(err);
        showHeat();
        updateLegend();
        setStatus("error", C.LOAD_FAILED + current.error);
        if (!api.ready) api.ready = true;
      });
    }

    var pending = null;
    function scheduleLoad(what) {
      // a few quick clicks (categories) make one request set
      if (pending) {
        what = { heat: what.heat || pending.what.heat, hotspots: what.hotspots || pending.what.hotspots,
                 incidents: what.incidents || pending.what.incidents };
        window.clearTimeout(pending.timer);
      }
      current.loading = true;
      var entry = { what: what, timer: 0 };
      entry.timer = window.setTimeout(function () {
        pending = null;
        load(entry.what);
      }, 200);
      pending = entry;
    }

    var EVERYTHING = { heat: true, hotspots: true, incidents: true };

    /* ---------- wiring ---------- */

    panel.querySelector("form").addEventListener("submit", function (e) { e.preventDefault(); });
    fromInput.addEventListener("change", function () { scheduleLoad(EVERYTHING); });
    toInput.addEventListener("change", function () { scheduleLoad(EVERYTHING); });
    categoryInputs.forEach(function (input) {
      input.addEventListener("change", function () { scheduleLoad(EVERYTHING); });
    });
    fdrInput.addEventListener("change", function () { scheduleLoad({ hotspots: true }); });
    slider.addEventListener("input", function () { setFrame(Number(slider.value)); });
    playButton.addEventListener("click", function () {
      if (current.playing) pause();
      else play();
    });
    allButton.addEventListener("click", function () {
      pause();
      current.frame = -1;
      showHeat();
    });

    setPlayButton();
    updateSlider();
    C.fitTown(map, byView ? C.boundsOf(data.bounds) : layers.grids ? layers.grids.getBounds() : null, panel, legend);
    if (byView) { // after the fit: a view that leaves the box, or zooms in well, loads again
      map.on("moveend", function () {
        if (!current.box || !current.box.contains(map.getBounds()) || map.getZoom() >= current.zoom + 2) {
          scheduleLoad(EVERYTHING);
        }
      });
    }

    var api = {
      ready: false,
      map: map,
      layers: layers,
      heat: heat,
      incidents: cluster,
      hotspots: function () { return cells; },
      setFrame: setFrame,
      play: play,
      pause: pause,
      reload: function () { return load(EVERYTHING); },
      state: function () {
        var list = frames();
        var frame = current.frame >= 0 && current.frame < list.length ? list[current.frame] : null;
        return {
          filters: current.filters,
          loading: current.loading || pending !== null,
          loads: current.loads,
          error: current.error,
          frame: current.frame,
          frames: list.length,
          week: frame ? frame.week : null,
          weekCount: frame ? frame.n : null,
          playing: current.playing,
          heatPoints: heat._latlngs.length,
          incidents: current.incidents,
          incidentsTotal: current.incidentsTotal,
          states: current.states,
          overdue: current.overdue,
          hotCells: hotCount("hot_"),
          coldCells: hotCount("cold_"),
          cells: cells ? cells.getLayers().length : 0,
          classes: current.classes,
          byView: byView,
          tooMany: current.tooMany,
          bbox: current.box ? C.bboxParam(current.box) : null,
          lattices: current.cells,
        };
      },
    };
    window.gridmapCommand = api;
    load(EVERYTHING);
    return true;
  }

  C.start(init, "gridmap command: no Leaflet map with heat, hotspots and incidents layers here");
})();
