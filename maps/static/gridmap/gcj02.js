/*
 * gridmap: L.CRS.GridmapGCJ02, the map CRS of the "amap" basemap (maps/base.py new_map).
 *
 * Amap (高德) tiles are Web-Mercator tiles of GCJ-02 coordinates, which lie a few hundred metres
 * from WGS84 in China. Rather than shifting the data, this CRS shifts the map: it is EPSG:3857 whose
 * projection first turns a WGS84 lat/lng into GCJ-02 (the published algorithm, the same as
 * geo/crs/offsets.py: Krasovsky 1940 ellipsoid, no offset outside the rough China box) and whose
 * inverse undoes it (fixed-point iteration, as geo.crs does, to 1e-10 degrees). So every overlay,
 * marker, map.getBounds(), click latlng and drawn geometry stays WGS84 in the page and on the wire;
 * only where it is drawn on screen moves, onto the GCJ-02 tiles.
 *
 * A classic script loaded right after leaflet.js (before folium's inline script makes the map with
 * crs: L.CRS.GridmapGCJ02). Also defines L.Projection.GridmapGCJ02 (project/unproject, and
 * toGcj02/toWgs84/inChina on L.LatLng for tests and pages).
 */
(function () {
  "use strict";

  var A = 6378245.0; // Krasovsky 1940
  var EE = 0.00669342162296594323;
  var CHINA_LON = [72.004, 137.8347];
  var CHINA_LAT = [0.8293, 55.8271];
  var INVERSE_TOL_DEG = 1e-10;
  var INVERSE_MAX_ITER = 20;
  var NEAR_DEG = 0.05;
  var PI = Math.PI;

  function inChina(lng, lat) {
    return lng >= CHINA_LON[0] && lng <= CHINA_LON[1] && lat >= CHINA_LAT[0] && lat <= CHINA_LAT[1];
  }

  // within the box grown by more than any offset (at most 0.011 degrees): where a GCJ-02 point may come
  // from a point in the box
  function nearChina(lng, lat) {
    return lng >= CHINA_LON[0] - NEAR_DEG && lng <= CHINA_LON[1] + NEAR_DEG &&
      lat >= CHINA_LAT[0] - NEAR_DEG && lat <= CHINA_LAT[1] + NEAR_DEG;
  }

  // GCJ-02 offset [dlng, dlat] in degrees at a WGS84 point (no China check): geo.crs.offsets._gcj_offset
  function offset(lng, lat) {
    var u = lng - 105.0;
    var v = lat - 35.0;
    var su = Math.sqrt(Math.abs(u));
    var upi = u * PI;
    var vpi = v * PI;
    var common = 20.0 * Math.sin(6.0 * upi) + 20.0 * Math.sin(2.0 * upi);
    var dlat = -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * su +
      (common + 20.0 * Math.sin(vpi) + 40.0 * Math.sin(vpi / 3.0) +
       160.0 * Math.sin(vpi / 12.0) + 320.0 * Math.sin(vpi / 30.0)) * 2.0 / 3.0;
    var dlng = 300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * su +
      (common + 20.0 * Math.sin(upi) + 40.0 * Math.sin(upi / 3.0) +
       150.0 * Math.sin(upi / 12.0) + 300.0 * Math.sin(upi / 30.0)) * 2.0 / 3.0;
    var rad = lat * PI / 180.0;
    var s = Math.sin(rad);
    var magic = 1.0 - EE * s * s;
    var sqrtMagic = Math.sqrt(magic);
    dlat = dlat * 180.0 / ((A * (1.0 - EE)) / (magic * sqrtMagic) * PI);
    dlng = dlng * 180.0 / (A / sqrtMagic * Math.cos(rad) * PI);
    return [dlng, dlat];
  }

  // WGS84 -> GCJ-02 as [lng, lat]; unchanged outside China (and for non-finite input)
  function toGcj02(lng, lat) {
    if (!inChina(lng, lat)) return [lng, lat];
    var d = offset(lng, lat);
    return [lng + d[0], lat + d[1]];
  }

  // GCJ-02 -> WGS84 as [lng, lat]: solve toGcj02(w) = g by fixed-point iteration from g - offset(g),
  // as geo.crs does. Unlike geo.crs, the box test is on the solution w, not on g: within ~600 m of
  // the box's edges a point inside the box has its GCJ-02 position outside it (geo.crs's inverse
  // then gives it back unchanged, 600 m off); here unproject(project(w)) = w for every w in the box.
  // Just outside an edge, a GCJ-02 position may also be a point of its own (no offset there): the
  // point inside the box wins, since the maps are of China.
  function toWgs84(lng, lat) {
    if (!nearChina(lng, lat)) return [lng, lat];
    var d = offset(lng, lat);
    var wx = lng - d[0];
    var wy = lat - d[1];
    for (var i = 0; i < INVERSE_MAX_ITER; i++) {
      var f = offset(wx, wy);
      var ex = wx + f[0] - lng;
      var ey = wy + f[1] - lat;
      wx -= ex;
      wy -= ey;
      if (Math.max(Math.abs(ex), Math.abs(ey)) < INVERSE_TOL_DEG) break;
    }
    return inChina(wx, wy) ? [wx, wy] : [lng, lat];
  }

  var mercator = L.Projection.SphericalMercator;

  var projection = {
    R: mercator.R,
    MAX_LATITUDE: mercator.MAX_LATITUDE,
    bounds: mercator.bounds,

    // WGS84 L.LatLng -> EPSG:3857 metres of its GCJ-02 position
    project: function (latlng) {
      var g = toGcj02(latlng.lng, latlng.lat);
      return mercator.project(L.latLng(g[1], g[0]));
    },

    // EPSG:3857 metres (of a GCJ-02 position) -> WGS84 L.LatLng
    unproject: function (point) {
      var g = mercator.unproject(point);
      var w = toWgs84(g.lng, g.lat);
      return L.latLng(w[1], w[0]);
    },

    inChina: inChina,
    toGcj02: toGcj02,
    toWgs84: toWgs84
  };

  L.Projection.GridmapGCJ02 = projection;
  L.CRS.GridmapGCJ02 = L.extend({}, L.CRS.EPSG3857, {
    code: "GridmapGCJ02",
    projection: projection
  });
})();
