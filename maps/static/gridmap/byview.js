/*
 * gridmap map pages: layers loaded by view (maps/byview.py).
 *
 * A layer too big to embed (a city's grids, buildings, cameras) is drawn by folium as an empty
 * L.geoJson whose options carry gmSource {url, params, budget, label} and gmStyle {base, by, values,
 * fallback} (and maybe gmHighlight, gmLabel {field, className, grid, pane}). Once the page's scripts have run, and each time the map
 * stops moving, this script asks the OGC API items of the layer's collection for the box in view
 * (plus a margin): first how many features lie there (limit=1, numberMatched), then, when that is at
 * most the layer's budget, all of them. When more lie in view, the layer draws none and a note on
 * the map says how many and to zoom in: never a silent part of them. A view inside the last box
 * loaded needs no request; a layer switched off asks nothing until it is switched on.
 *
 * Standalone (needs only Leaflet): loaded with <script defer>, it runs after folium's inline script.
 * Every value from the API is written as text. Events for the page scripts: the layer fires
 * "gm:loaded" {matched, complete} after each answer. For tests and scripts: window.gridmapViews.idle()
 * resolves when no map moves, no refresh waits and no request is in flight (inView's own included), and
 * <html data-gm-views="loading|idle"> says the same.
 */
(function () {
  "use strict";

  var MARGIN = 0.25; // of the view's size, on each side
  var WAIT_MS = 120; // after the map stops moving
  var inFlight = 0;
  var waiters = [];

  function setBusy(delta) {
    inFlight += delta;
    if (inFlight < 0) throw new Error("gridmap byview: busy count below zero");
    document.documentElement.setAttribute("data-gm-views", inFlight > 0 ? "loading" : "idle");
    if (inFlight === 0) {
      var ready = waiters;
      waiters = [];
      ready.forEach(function (resolve) { resolve(); });
    }
  }

  function grouped(n) {
    return Number(n).toLocaleString("en-US");
  }

  function gridLabel(code) {
    var s = String(code);
    return /^\d{15}$/.test(s) ? s.slice(-3) : s;
  }

  // the Leaflet style function of a StyleRule (maps/byview.py): base, updated by the value of one property
  function styleOf(rule) {
    rule = rule || { base: {} };
    return function (feature) {
      var style = {};
      var key;
      for (key in rule.base) style[key] = rule.base[key];
      if (rule.by) {
        var value = feature && feature.properties ? feature.properties[rule.by] : null;
        var extra = value !== null && value !== undefined && rule.values && rule.values[String(value)];
        extra = extra || rule.fallback || {};
        for (key in extra) style[key] = extra[key];
      }
      return style;
    };
  }

  /* ---------- the notes box: what a layer does not show, and why ---------- */

  function Notes(map) {
    var box = L.DomUtil.create("div", "gm-view-notes leaflet-bar");
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    box.style.display = "none";
    var Control = L.Control.extend({ onAdd: function () { return box; } });
    new Control({ position: "bottomleft" }).addTo(map);
    L.DomEvent.disableClickPropagation(box);
    var notes = {};
    function draw() {
      while (box.firstChild) box.removeChild(box.firstChild);
      Object.keys(notes).forEach(function (key) {
        var p = document.createElement("p");
        p.className = "gm-view-note";
        p.setAttribute("data-layer", key);
        p.textContent = notes[key];
        box.appendChild(p);
      });
      box.style.display = box.firstChild ? "" : "none";
    }
    return {
      set: function (key, text) {
        if (text) notes[key] = text;
        else delete notes[key];
        draw();
      },
    };
  }

  /* ---------- one layer ---------- */

  function query(source, box, limit) {
    var params = new URLSearchParams();
    Object.keys(source.params || {}).forEach(function (k) { params.set(k, source.params[k]); });
    var west = Math.max(-180, box.getWest()), east = Math.min(180, box.getEast());
    var south = Math.max(-90, box.getSouth()), north = Math.min(90, box.getNorth());
    params.set("bbox", [west, south, east, north].map(function (v) { return v.toFixed(6); }).join(","));
    params.set("limit", String(limit));
    params.set("f", "json");
    return source.url + "?" + params.toString();
  }

  function getItems(url, signal) {
    var init = { credentials: "same-origin", headers: { Accept: "application/geo+json" } };
    if (signal) init.signal = signal;
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        if (!response.ok || !body) {
          var message = body && body.error && body.error.message ? body.error.message : text.slice(0, 200);
          throw new Error(response.status + ": " + message);
        }
        return body;
      });
    });
  }

  // The features of *source* ({url, params}) in *box*: a count first (limit=1), then, when at most
  // *budget* lie there, all of them. Calls apply({features, matched, complete}) (complete is false, and
  // features empty, when more than the budget lie in the box) and resolves with what it returns; the
  // request counts as busy until apply has run, so idle() never sees a drawn-but-not-yet-applied state.
  function inView(source, box, budget, signal, apply) {
    setBusy(1);
    return getItems(query(source, box, 1), signal).then(function (probe) {
      var matched = probe.numberMatched;
      if (typeof matched !== "number") matched = (probe.features || []).length;
      if (matched > budget) return { features: [], matched: matched, complete: false };
      if (matched <= 1) return { features: probe.features || [], matched: matched, complete: true };
      return getItems(query(source, box, budget), signal).then(function (body) {
        var features = body.features || [];
        if (typeof body.numberMatched === "number" && body.numberMatched > features.length) {
          return { features: [], matched: body.numberMatched, complete: false }; // grew between the two
        }
        return { features: features, matched: features.length, complete: true };
      });
    }).then(function (result) {
      try {
        return apply(result);
      } finally {
        setBusy(-1);
      }
    }, function (err) {
      setBusy(-1);
      throw err;
    });
  }

  function ViewLayer(map, layer, notes, key) {
    var source = layer.options.gmSource;
    var budget = source.budget;
    var labelSpec = layer.options.gmLabel || null;
    var labels = labelSpec ? L.layerGroup() : null;
    var loaded = null; // the box of the last complete load
    var controller = null;
    var timer = null;

    layer.options.style = styleOf(layer.options.gmStyle);
    if (layer.options.gmHighlight) {
      var highlight = layer.options.gmHighlight;
      layer.on("mouseover", function (e) { if (e.layer && e.layer.setStyle) e.layer.setStyle(highlight); });
      layer.on("mouseout", function (e) { if (e.layer && e.layer.setStyle) layer.resetStyle(e.layer); });
    }

    function drawLabels(features) {
      if (!labels) return;
      labels.clearLayers();
      features.forEach(function (f) {
        var p = f.properties || {};
        if (typeof p.label_lat !== "number" || typeof p.label_lon !== "number") return;
        var text = p[labelSpec.field];
        if (text === null || text === undefined) return;
        var span = document.createElement("span");
        span.textContent = labelSpec.grid ? gridLabel(text) : String(text);
        var options = {
          icon: L.divIcon({ className: labelSpec.className || "gm-label", html: span, iconSize: [0, 0] }),
          interactive: false, keyboard: false,
        };
        if (labelSpec.pane) options.pane = labelSpec.pane; // a pane the page script made (e.g. "gm-labels")
        labels.addLayer(L.marker([p.label_lat, p.label_lon], options));
      });
    }

    function show(features, matched) {
      layer.clearLayers();
      layer.addData({ type: "FeatureCollection", features: features });
      drawLabels(features);
      layer.fire("gm:loaded", { matched: matched, complete: true });
    }

    function tooMany(matched) {
      layer.clearLayers();
      if (labels) labels.clearLayers();
      loaded = null;
      notes.set(key, source.label + ": " + grouped(matched) + " 个在视图中 in view, 最多显示 at most " +
                grouped(budget) + " — 请放大 zoom in to see them");
      layer.fire("gm:loaded", { matched: matched, complete: false });
    }

    function refresh() {
      if (timer) {
        clearTimeout(timer);
        timer = null;
        setBusy(-1);
      }
      if (!map.hasLayer(layer)) {
        notes.set(key, null);
        return;
      }
      var view = map.getBounds();
      if (loaded && loaded.contains(view)) return;
      var box = view.pad(MARGIN);
      if (controller) controller.abort();
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var signal = controller ? controller.signal : undefined;
      inView(source, box, budget, signal, function (result) {
        if (!result.complete) return tooMany(result.matched);
        loaded = box;
        notes.set(key, null);
        show(result.features, result.matched);
      }).catch(function (err) {
        if (err && err.name === "AbortError") return;
        loaded = null;
        notes.set(key, source.label + ": 加载失败 failed to load: " + String(err && err.message ? err.message : err));
      });
    }

    // the map stopped: refresh after WAIT_MS (counted as busy from now, so idle() waits for it)
    function later() {
      if (timer) clearTimeout(timer);
      else setBusy(1);
      timer = setTimeout(function () {
        timer = null;
        refresh();
        setBusy(-1); // after refresh() has counted its own request
      }, WAIT_MS);
    }

    map.on("moveend", later);
    layer.on("add", function () {
      if (labels && !map.hasLayer(labels)) labels.addTo(map);
      later();
    });
    layer.on("remove", function () {
      if (labels) map.removeLayer(labels);
      if (controller) controller.abort();
      notes.set(key, null);
    });
    if (labels && map.hasLayer(layer)) labels.addTo(map);
    return { refresh: refresh, layer: layer, source: source };
  }

  /* ---------- start-up: every map, every layer with a gmSource ---------- */

  function findAll() {
    var maps = [];
    var layers = [];
    Object.keys(window).forEach(function (k) {
      var value;
      try { value = window[k]; } catch (e) { return; }
      if (!value || typeof value !== "object") return;
      if (value instanceof L.Map) maps.push(value);
      else if (value instanceof L.GeoJSON && value.options && value.options.gmSource) layers.push(value);
    });
    return { maps: maps, layers: layers };
  }

  function mapOf(layer, maps) {
    for (var i = 0; i < maps.length; i++) {
      if (maps[i].hasLayer(layer)) return maps[i];
    }
    return maps.length === 1 ? maps[0] : null; // a layer switched off at first (show=False) is on no map yet
  }

  var views = [];

  function init() {
    if (typeof L !== "object") return;
    var found = findAll();
    var notesOf = [];
    found.layers.forEach(function (layer, i) {
      var map = mapOf(layer, found.maps);
      if (!map) return;
      var slot = found.maps.indexOf(map);
      notesOf[slot] = notesOf[slot] || Notes(map);
      views.push(ViewLayer(map, layer, notesOf[slot], layer.options.gmLayer || "layer-" + i));
    });
    // a map moving (a zoom animation) counts as busy until it stops; registered after the layers' own
    // moveend handlers, so their refresh is scheduled before this lets go
    found.maps.forEach(function (map) {
      var moving = false;
      map.on("movestart", function () { if (!moving) { moving = true; setBusy(1); } });
      map.on("moveend", function () { if (moving) { moving = false; setBusy(-1); } });
    });
    views.forEach(function (v) { v.refresh(); });
    if (inFlight === 0) setBusy(0);
  }

  window.gridmapViews = {
    views: views,
    inView: inView, // for page scripts that draw their own layers (coverage.js)
    MARGIN: MARGIN,
    // resolves once no layer is waiting for an answer
    idle: function () {
      return new Promise(function (resolve) {
        if (inFlight === 0) resolve();
        else waiters.push(resolve);
      });
    },
  };
  document.documentElement.setAttribute("data-gm-views", "loading");

  function start() {
    setTimeout(init, 0); // after the page scripts' own DOMContentLoaded work (fitting the map)
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
