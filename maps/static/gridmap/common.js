/*
 * gridmap map pages: what the page scripts (lookup.js, command.js, coverage.js, editor.js) share.
 * Loaded with <script defer> just before the page's own script (maps/base.py add_page_assets), so
 * it runs after leaflet.js; it only defines window.gridmapCommon and touches nothing on the page.
 *
 *  - findPage(panelId, required) -> {panel, map, layers}, or null until it is all there: the page's
 *    panel and what folium drew (findLeaflet(panel) -> {map, layers}). folium declares its objects
 *    as top-level variables (map_<id>, geo_json_<id>, feature_group_<id>, ...), so the map is the
 *    L.Map among window's properties whose container holds the panel, and the layers are the
 *    Leaflet layers by their options.gmLayer (the maps/*.py builders pass gm_layer=..., folium
 *    forwards it as a Leaflet option);
 *  - apiBase(root): the API's URL prefix from the panel's data-api-base;
 *  - fetchJSON / requestJSON / getJSON: same-origin calls to the JSON API (the HttpOnly session
 *    cookie authenticates); apiError: its error envelope {"error": {code, message, details}};
 *  - el, parseJSON, present, gridLabel: small helpers (text only: nothing from the API is ever
 *    written as HTML);
 *  - pane(map, name, zIndex, noPointer), addHatches(className, hatches): map panes, SVG hatch fills;
 *  - start(init, failure): runs the page's init() once the DOM is ready.
 */
(function () {
  "use strict";

  /* ---------- finding folium's map and layers ---------- */

  function findLeaflet(panel) {
    var found = { map: null, layers: {} };
    Object.keys(window).forEach(function (key) {
      var value;
      try {
        value = window[key];
      } catch (e) {
        return; // some window properties throw on access
      }
      if (!value || typeof value !== "object") return;
      if (value instanceof L.Map) {
        if (!found.map || value.getContainer().contains(panel)) found.map = value;
      } else if (value instanceof L.Layer && value.options && typeof value.options.gmLayer === "string") {
        found.layers[value.options.gmLayer] = value;
      }
    });
    return found;
  }

  // The page's panel (#panelId), folium's map and its layers by gmLayer; null while Leaflet, the panel,
  // the map or a layer named in *required* is missing.
  function findPage(panelId, required) {
    var panel = document.getElementById(panelId);
    if (!panel || typeof L !== "object") return null;
    var found = findLeaflet(panel);
    if (!found.map || required.some(function (name) { return !found.layers[name]; })) return null;
    return { panel: panel, map: found.map, layers: found.layers };
  }

  /* ---------- small helpers (text only) ---------- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function parseJSON(text, fallback) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return fallback;
    }
  }

  function present(value) {
    return value !== undefined && value !== null && value !== "";
  }

  // the grid's number: the last 3 digits of a 15-digit grid code; other codes as they are
  function gridLabel(code) {
    var s = String(code);
    return /^\d{15}$/.test(s) ? s.slice(-3) : s;
  }

  /* ---------- the JSON API ---------- */

  function apiBase(root) {
    return (root.getAttribute("data-api-base") || "/v1").replace(/\/+$/, "");
  }

  // One same-origin call: opts {params, body (sent as JSON), headers, signal}. Resolves to
  // {ok, status, body, text} whatever the HTTP status (body: the parsed JSON, or null); rejects only
  // when the request itself fails (network, abort).
  function fetchJSON(base, method, path, opts) {
    opts = opts || {};
    var url = base + path + (opts.params ? "?" + new URLSearchParams(opts.params).toString() : "");
    var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (opts.signal) init.signal = opts.signal;
    if (opts.headers) {
      Object.keys(opts.headers).forEach(function (k) { init.headers[k] = opts.headers[k]; });
    }
    if (opts.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        return { ok: response.ok, status: response.status, body: parseJSON(text, null), text: text };
      });
    });
  }

  // The error envelope's "error" object of an answer (fetchJSON's result), or null.
  function apiError(res) {
    return res.body && res.body.error ? res.body.error : null;
  }

  // As fetchJSON, but resolves to the body of a 2xx answer and rejects any other with an Error
  // "<status> <path>: <the envelope's message, or the start of the answer>" (its .status: the HTTP status).
  function requestJSON(base, method, path, opts) {
    return fetchJSON(base, method, path, opts).then(function (res) {
      if (!res.ok) {
        var error = apiError(res);
        var message = error && error.message ? error.message : res.text.slice(0, 200);
        var err = new Error(res.status + " " + path + ": " + message);
        err.status = res.status;
        throw err;
      }
      return res.body;
    });
  }

  function getJSON(base, path, params, signal) {
    return requestJSON(base, "GET", path, { params: params, signal: signal });
  }

  /* ---------- the map ---------- */

  // The pane *name* (made if missing) at *zIndex*; noPointer: clicks go through it.
  function pane(map, name, zIndex, noPointer) {
    var node = map.getPane(name) || map.createPane(name);
    node.style.zIndex = String(zIndex);
    if (noPointer) node.style.pointerEvents = "none";
    return node;
  }

  // Hatch fills for SVG paths (CSS: fill: url(#<id>)), in one hidden <svg class="className">: a
  // <pattern> per hatch {id, colour, angle (degrees), size, line (width), backOpacity, lineOpacity}.
  // Does nothing when the first hatch is already on the page.
  function addHatches(className, hatches) {
    var NS = "http://www.w3.org/2000/svg";
    if (!hatches.length || document.getElementById(hatches[0].id)) return;
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", className);
    svg.setAttribute("width", "0");
    svg.setAttribute("height", "0");
    svg.setAttribute("aria-hidden", "true");
    var defs = document.createElementNS(NS, "defs");
    hatches.forEach(function (h) {
      var size = String(h.size);
      var pattern = document.createElementNS(NS, "pattern");
      pattern.setAttribute("id", h.id);
      pattern.setAttribute("patternUnits", "userSpaceOnUse");
      pattern.setAttribute("width", size);
      pattern.setAttribute("height", size);
      pattern.setAttribute("patternTransform", "rotate(" + h.angle + ")");
      var back = document.createElementNS(NS, "rect");
      back.setAttribute("width", size);
      back.setAttribute("height", size);
      back.setAttribute("fill", h.colour);
      back.setAttribute("fill-opacity", String(h.backOpacity));
      var line = document.createElementNS(NS, "rect");
      line.setAttribute("width", String(h.line));
      line.setAttribute("height", size);
      line.setAttribute("fill", h.colour);
      line.setAttribute("fill-opacity", String(h.lineOpacity));
      pattern.appendChild(back);
      pattern.appendChild(line);
      defs.appendChild(pattern);
    });
    svg.appendChild(defs);
    document.body.appendChild(svg);
  }

  /* ---------- start-up ---------- */

  // Runs init() once the DOM is parsed. init() returns false when the map or its layers are not
  // there yet (folium's script not run: should not happen with defer); it is tried once more after
  // load, and then *failure* is logged.
  function start(init, failure) {
    function run() {
      if (init()) return;
      window.addEventListener("load", function () {
        if (!init()) console.error(failure);
      });
    }
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
    else run();
  }

  window.gridmapCommon = {
    findLeaflet: findLeaflet,
    findPage: findPage,
    el: el,
    parseJSON: parseJSON,
    present: present,
    gridLabel: gridLabel,
    apiBase: apiBase,
    fetchJSON: fetchJSON,
    apiError: apiError,
    requestJSON: requestJSON,
    getJSON: getJSON,
    pane: pane,
    addHatches: addHatches,
    start: start,
  };
})();
