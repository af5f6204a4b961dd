// The vector-tile page: MapLibre draws /tiles/style.json (fetched with the page's session cookie).
// window.gridmapTiles is the map; window.gridmapTilesReady turns true once the town's view is drawn.
(function () {
  "use strict";
  var el = document.getElementById("gm-tiles-map");
  maplibregl.setWorkerUrl(el.dataset.worker);
  var map = new maplibregl.Map({ container: el, style: el.dataset.style, attributionControl: false });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.on("error", function (e) { console.error("map: " + (e.error && e.error.message)); });
  map.on("load", function () {
    var b = (map.getStyle().metadata || {})["gridmap:bounds"];
    if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 24, animate: false });
    map.once("idle", function () { window.gridmapTilesReady = true; });
  });
  window.gridmapTiles = map;
})();
