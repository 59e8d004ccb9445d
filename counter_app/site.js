// A page served under a site's prefix (/s/{site}/...: queue_server/api/sites.py
// puts this script first in its <head>) keeps every absolute URL of ours under
// that prefix: fetch, XMLHttpRequest, WebSocket, EventSource, links, forms and
// (in Chromium) any other navigation. Pages keep writing "/api/...".
"use strict";
(function () {
  var m = location.pathname.match(/^\/s\/([a-z0-9][a-z0-9-]*)(?=\/)/);
  if (!m || window.MC_SITE_PREFIX) return;
  var prefix = m[0];
  window.MC_SITE_PREFIX = prefix;

  // "/api/x" -> "/s/site/api/x"; other origins and prefixed paths stay as they are
  function fix(url) {
    if (typeof url !== "string" && !(url instanceof URL)) return url;
    var s = String(url);
    if (s.charAt(0) === "/" && s.charAt(1) !== "/") {
      return s.indexOf(prefix + "/") === 0 || s === prefix ? s : prefix + s;
    }
    try {
      var u = new URL(s, location.href);
      if (u.host !== location.host) return url;
      if (u.pathname.indexOf(prefix + "/") === 0) return url;
      if (!/^(https?|wss?):$/.test(u.protocol)) return url;
      u.pathname = prefix + u.pathname;
      return u.href;
    } catch (e) {
      return url;
    }
  }
  window.MC_SITE_URL = fix;

  var origFetch = window.fetch;
  if (origFetch) {
    window.fetch = function (input, init) {
      if (typeof input === "string" || input instanceof URL) input = fix(input);
      else if (input && input.url && fix(input.url) !== input.url) input = new Request(fix(input.url), input);
      return origFetch.call(this, input, init);
    };
  }
  var origOpen = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    var args = Array.prototype.slice.call(arguments);
    args[1] = fix(url);
    return origOpen.apply(this, args);
  };
  function wrapCtor(Orig) {
    if (!Orig) return Orig;
    function Wrapped(url, arg) {
      return arg === undefined ? new Orig(fix(url)) : new Orig(fix(url), arg);
    }
    Wrapped.prototype = Orig.prototype;
    ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { if (k in Orig) Wrapped[k] = Orig[k]; });
    return Wrapped;
  }
  window.WebSocket = wrapCtor(window.WebSocket);
  if (window.EventSource) window.EventSource = wrapCtor(window.EventSource);

  // links and forms, at the moment they are used (pages build them at any time)
  document.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("a[href]") : null;
    if (!a) return;
    var href = a.getAttribute("href");
    if (href && href.charAt(0) === "/" && href.charAt(1) !== "/") a.setAttribute("href", fix(href));
  }, true);
  document.addEventListener("submit", function (e) {
    var f = e.target;
    var action = f && f.getAttribute ? f.getAttribute("action") : null;
    if (action && action.charAt(0) === "/" && action.charAt(1) !== "/") f.setAttribute("action", fix(action));
  }, true);
  // location.assign("/x"), location.href = "/x" ...: Chromium's Navigation API
  // lets the page catch the navigation and take it under the prefix instead
  if (window.navigation && window.navigation.addEventListener) {
    window.navigation.addEventListener("navigate", function (e) {
      if (!e.cancelable || e.hashChange || e.downloadRequest) return;
      var to = e.destination && e.destination.url;
      var fixed = to ? fix(to) : to;
      if (fixed && fixed !== to) {
        e.preventDefault();
        location.assign(fixed);
      }
    });
  }
})();
