/*
 * gridmap editor: one call to the planners' API. Part of the editor's scripts (see main.js) and of the
 * start page's (plans.js): window.gridmapEditorModules.api = {request}.
 *
 * request(apiBase, method, path, opts): opts {params, body, version (sent as If-Match)} -> a Promise of
 * {ok, status, code, message, details, body}, whatever the HTTP status (code, message, details: the error
 * envelope's); never rejects (a network failure is status 0, code "network").
 */
(function () {
  "use strict";

  var C = window.gridmapCommon;
  var M = (window.gridmapEditorModules = window.gridmapEditorModules || {});

  // opts {params, body, version (sent as If-Match)} -> {ok, status, code, message, details, body};
  // never rejects (a network failure is status 0)
  function request(apiBase, method, path, opts) {
    opts = opts || {};
    var headers = {};
    if (opts.version !== undefined && opts.version !== null) headers["If-Match"] = '"' + opts.version + '"';
    return C.fetchJSON(apiBase, method, path, { params: opts.params, body: opts.body, headers: headers })
      .then(function (res) {
        var error = C.apiError(res);
        return {
          ok: res.ok,
          status: res.status,
          code: error ? error.code : null,
          message: error ? C.messageText(error) : res.ok ? "" : res.status + " " + res.text.slice(0, 200),
          details: error ? error.details || null : null,
          body: res.body,
        };
      }, function (err) {
      return { ok: false, status: 0, code: "network", message: "网络错误 network error: " + C.errorText(err),
               details: null, body: null };
    });
  }

  M.api = { request: request };
})();
