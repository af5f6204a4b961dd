/*
 * gridmap: the map's shapes out of the tab order (issue 15, item 6). A classic script after leaflet.js and
 * before folium's inline script makes the map and its layers (maps/base.py, new_map), so every page's shapes,
 * folium's and the page scripts' alike, are made with it:
 *  - markers, divIcon labels, cluster icons: Leaflet's default keyboard: true gives each tabindex="0" (a stop of
 *    its own); keyboard: false is the default here (a marker may still ask for keyboard: true);
 *  - SVG paths: a path with a tooltip or popup has focus listeners, which make Chromium put it in the tab order;
 *    tabindex="-1" keeps it out (a click still focuses it, as before).
 * The map itself stays one stop: Leaflet gives its container tabindex="0" (arrows pan, +/- zoom).
 */
(function () {
  "use strict";

  var L = window.L;
  if (!L || !L.Marker || !L.SVG) return;

  L.Marker.prototype.options.keyboard = false;

  var initPath = L.SVG.prototype._initPath;
  L.SVG.prototype._initPath = function (layer) {
    initPath.call(this, layer);
    if (layer._path) layer._path.setAttribute("tabindex", "-1");
  };
})();
