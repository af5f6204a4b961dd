/*
 * gridmap map pages: what the page scripts (lookup.js, command.js, coverage.js, editor/*.js) share.
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
 *  - errorText(err): the message of an Error (or the thing itself), as text;
 *  - messageText(said): what a person reads of an API message: "中文 — English" when it has its Chinese
 *    (an error envelope's message_zh, a plan problem's detail_zh: the catalogue geo/messages.py), else
 *    the English; every page's error display goes through it (requestJSON's errors too);
 *  - el, clear, parseJSON, present, gridLabel: small DOM and text helpers (text only: nothing from the
 *    API is ever written as HTML);
 *  - isNum, grouped(n, digits) ("12,345.6", "–" for no number), number(n) (zh-CN grouping, anything
 *    else as it is): the pages' number formats;
 *  - setStatus(node, state, text): a page's status line (its data-state and text); LOADING, LOAD_FAILED:
 *    its words for loading and for a failed load; legendCounts(legend, countOf): "(n)" in each
 *    [data-count] of a legend;
 *  - sidePadding(map, panel, legend), fitTown(map, bounds, panel, legend): the town between the side
 *    panel (left) and the legend (right), when the map is wide enough; boundsOf(data-bounds value);
 *    viewBox(map, margin), bboxParam(box): the box in view and its bbox= value (city pages);
 *  - newController(previous): aborts the previous request set and gives a new AbortController (or null);
 *  - pane(map, name, zIndex, noPointer), addHatches(className, hatches): map panes, SVG hatch fills;
 *  - start(init, failure): runs the page's init() once the DOM is ready;
 *  - wall screen (a command centre's big screen seen from metres away): ?screen=wall, or a page's
 *    .gm-wall-toggle button, puts class gm-wall on <html>, whose --gm-scale (maps/base.py) scales the
 *    panels' text and controls; the button keeps ?screen=wall in the address, so a reload keeps the mode.
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

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function errorText(err) {
    return String(err && err.message ? err.message : err);
  }

  // {message, message_zh} (an error envelope's "error") or {detail, detail_zh} (a plan problem) ->
  // "中文 — English", or the English alone when there is no Chinese; "" for nothing
  function messageText(said) {
    if (!said) return "";
    var english = said.message !== undefined ? said.message : said.detail;
    var chinese = said.message !== undefined ? said.message_zh : said.detail_zh;
    english = present(english) ? String(english) : "";
    return present(chinese) ? String(chinese) + (english ? " — " + english : "") : english;
  }

  /* ---------- numbers ---------- */

  function isNum(n) {
    return typeof n === "number" && isFinite(n);
  }

  // 12345.6 -> "12,346" (digits 0) or "12,345.6" (digits 1); "–" when n is no finite number
  function grouped(n, digits) {
    if (!isNum(n)) return "–";
    return Number(n).toLocaleString("en-US", { minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0 });
  }

  // a count in the town's locale (12345 -> "12,345"); anything but a number as it is
  function number(value) {
    return typeof value === "number" ? value.toLocaleString("zh-CN") : value;
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
        var message = error && error.message ? messageText(error) : res.text.slice(0, 200);
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

  /* ---------- status line and legend ---------- */

  var LOADING = "加载中 Loading…";
  var LOAD_FAILED = "加载失败 Failed to load: ";

  // the status line *node* says *text*; its data-state (loading, ok, error, ...) picks the style
  function setStatus(node, state, text) {
    node.setAttribute("data-state", state);
    node.textContent = text;
  }

  // "(n)" in every [data-count] element of *legend* (none: nothing), n = countOf(its data-count)
  function legendCounts(legend, countOf) {
    if (!legend) return;
    Array.prototype.forEach.call(legend.querySelectorAll("[data-count]"), function (node) {
      node.textContent = "(" + countOf(node.getAttribute("data-count")) + ")";
    });
  }

  /* ---------- requests in flight ---------- */

  // Aborts *previous* (an AbortController or null) and gives the next request set's controller (null where
  // the browser has none).
  function newController(previous) {
    if (previous) previous.abort();
    return typeof AbortController === "function" ? new AbortController() : null;
  }

  /* ---------- the map ---------- */

  // {left, right} padding (px) that keeps the map's content clear of the side panel (its control box,
  // else the panel) and the legend, each only when the map is wide enough to spare it
  function sidePadding(map, panel, legend) {
    var width = map.getSize().x;
    var box = panel.parentNode && panel.parentNode.offsetWidth ? panel.parentNode : panel;
    var left = width > 2 * box.offsetWidth + 240 ? box.offsetWidth + 30 : 20;
    var right = legend && width > left + legend.offsetWidth + 480 ? legend.offsetWidth + 30 : 20;
    return { left: left, right: right };
  }

  // the map's view grown by *margin* of its size on each side, kept within lon/lat: the box a page asks
  // the API for (bbox=) when a city's layers follow the view
  function viewBox(map, margin) {
    var b = map.getBounds().pad(margin);
    return L.latLngBounds([Math.max(-90, b.getSouth()), Math.max(-180, b.getWest())],
                          [Math.min(90, b.getNorth()), Math.min(180, b.getEast())]);
  }

  // "west,south,east,north" of a box, 6 decimals (~0.1 m): the API's bbox= value
  function bboxParam(box) {
    return [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map(function (v) {
      return v.toFixed(6);
    }).join(",");
  }

  // L.LatLngBounds of a data-bounds value "west,south,east,north" (maps/*.py), or null
  function boundsOf(value) {
    var b = String(value || "").split(",").map(Number);
    return b.length === 4 && b.every(isFinite) ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : null;
  }

  // the whole town (*bounds*: its grids') between the panel and the legend; nothing when bounds is empty
  function fitTown(map, bounds, panel, legend) {
    if (!bounds || !bounds.isValid()) return;
    var pad = sidePadding(map, panel, legend);
    map.fitBounds(bounds, { paddingTopLeft: [pad.left, 20], paddingBottomRight: [pad.right, 20],
                            maxZoom: 18, animate: false });
  }

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

  /* ---------- wall screen ---------- */

  var WALL = "gm-wall";

  function setWall(on) {
    document.documentElement.classList.toggle(WALL, on);
    Array.prototype.forEach.call(document.querySelectorAll(".gm-wall-toggle"), function (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
    if (window.history && window.history.replaceState) {
      var url = new URL(window.location.href);
      if (on) url.searchParams.set("screen", "wall");
      else url.searchParams.delete("screen");
      window.history.replaceState(window.history.state, "", url.toString());
    }
  }

  function isWall() {
    return document.documentElement.classList.contains(WALL);
  }

  if (new URL(window.location.href).searchParams.get("screen") === "wall") {
    document.documentElement.classList.add(WALL);
  }
  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest ? e.target.closest(".gm-wall-toggle") : null;
    if (button) setWall(!isWall());
  }, true); // capture: the panels stop the click's bubbling (L.DomEvent.disableClickPropagation)
  function markWallButtons() {
    Array.prototype.forEach.call(document.querySelectorAll(".gm-wall-toggle"), function (button) {
      button.setAttribute("aria-pressed", isWall() ? "true" : "false");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", markWallButtons);
  else markWallButtons();

  window.gridmapCommon = {
    findLeaflet: findLeaflet,
    findPage: findPage,
    el: el,
    clear: clear,
    errorText: errorText,
    messageText: messageText,
    parseJSON: parseJSON,
    present: present,
    isNum: isNum,
    grouped: grouped,
    number: number,
    LOADING: LOADING,
    LOAD_FAILED: LOAD_FAILED,
    setStatus: setStatus,
    legendCounts: legendCounts,
    newController: newController,
    sidePadding: sidePadding,
    fitTown: fitTown,
    boundsOf: boundsOf,
    viewBox: viewBox,
    bboxParam: bboxParam,
    gridLabel: gridLabel,
    apiBase: apiBase,
    fetchJSON: fetchJSON,
    apiError: apiError,
    requestJSON: requestJSON,
    getJSON: getJSON,
    pane: pane,
    addHatches: addHatches,
    start: start,
    setWall: setWall,
    isWall: isWall,
  };
})();
