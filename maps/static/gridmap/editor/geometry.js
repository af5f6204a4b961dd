/*
 * gridmap editor: geometry clean-up before a PUT (no state, no DOM). Part of the editor's scripts (see
 * main.js): window.gridmapEditorModules.geometry = {samePoint, cleanRing, cleanGeometry}.
 */
(function () {
  "use strict";

  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});

  // within 3e-7 degrees (about 3 cm): the API writes 7 decimals, so a sliver a few millimetres wide
  // comes out as two points 1e-7 apart
  function samePoint(a, b) {
    return Math.abs(a[0] - b[0]) < 3e-7 && Math.abs(a[1] - b[1]) < 3e-7;
  }

  // A ring without repeated points and without zero-width spikes (..., A, B, A', ... with A' within 3 cm
  // of A): a hair-thin sliver in a stored grid comes out of the API's 7-decimal GeoJSON as such a spike,
  // which the API then refuses as a self-touching ring when the page sends the edited outline back.
  function cleanRing(ring) {
    var pts = ring.slice(0, ring.length > 1 && samePoint(ring[0], ring[ring.length - 1]) ? -1 : ring.length);
    var changed = true;
    while (changed && pts.length > 3) {
      changed = false;
      var out = [];
      for (var i = 0; i < pts.length; i++) {
        if (!out.length || !samePoint(out[out.length - 1], pts[i])) out.push(pts[i]);
      }
      if (out.length > 1 && samePoint(out[0], out[out.length - 1])) out.pop();
      for (var j = 0; j < out.length && out.length > 3; j++) {
        var prev = out[(j - 1 + out.length) % out.length];
        var next = out[(j + 1) % out.length];
        if (samePoint(prev, next)) { // out[j] is the tip of a spike: drop it and its way back
          out.splice(j, 1);
          out.splice(j % out.length, 1);
          changed = true;
          break;
        }
      }
      pts = out;
    }
    return pts.concat([pts[0]]);
  }

  function cleanGeometry(geometry) {
    if (!geometry || !geometry.coordinates) return geometry;
    if (geometry.type === "Polygon") {
      return { type: "Polygon", coordinates: geometry.coordinates.map(cleanRing) };
    }
    if (geometry.type === "MultiPolygon") {
      return { type: "MultiPolygon", coordinates: geometry.coordinates.map(function (poly) {
        return poly.map(cleanRing);
      }) };
    }
    return geometry;
  }

  M.geometry = { samePoint: samePoint, cleanRing: cleanRing, cleanGeometry: cleanGeometry };
})();
