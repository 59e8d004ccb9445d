// Shared helpers for the counter app, rating tablet and admin pages (no build step).
"use strict";
const MC = (() => {
  const params = new URLSearchParams(location.search);
  let lang = params.get("lang") || localStorage.getItem("motcua.lang") || "vi";
  if (lang !== "en") lang = "vi";
  let csrf = null;

  function readCookie(name) {
    const m = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return m ? decodeURIComponent(m.slice(name.length + 1)) : null;
  }

  // A random key per button press; works on plain-http LAN addresses too
  // (crypto.randomUUID exists only in secure contexts).
  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ("HTTP " + status));
      this.status = status; this.body = body || {}; this.code = this.body.error || "";
    }
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // JSON request. State-changing requests carry the CSRF header; `idem`
  // adds an Idempotency-Key and retries network failures with the same key.
  async function api(method, path, body, opts = {}) {
    const headers = { "Accept": "application/json", "Accept-Language": lang === "en" ? "en" : "vi" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = csrf || readCookie("motcua_csrf") || "";
    if (opts.idem) headers["Idempotency-Key"] = opts.idem;
    if (opts.token) headers["Authorization"] = "Bearer " + opts.token;
    const tries = opts.idem ? 4 : 1;
    let last;
    for (let i = 0; i < tries; i++) {
      try {
        const r = await fetch(path, { method, headers, credentials: "same-origin",
          body: body === undefined ? undefined : JSON.stringify(body) });
        let data = null;
        try { data = await r.json(); } catch (e) { data = null; }
        if (r.ok) return data;
        if (r.status >= 500 && i < tries - 1) { last = new ApiError(r.status, data); await sleep(400 * (i + 1)); continue; }
        throw new ApiError(r.status, data);
      } catch (e) {
        if (e instanceof ApiError) throw e;
        last = e;                      // network failure: retry with the same key
        if (i < tries - 1) await sleep(400 * (i + 1));
      }
    }
    throw last instanceof ApiError ? last : new ApiError(0, { message: lang === "en" ? "Network error, please retry." : "Mất kết nối mạng, vui lòng thử lại." });
  }

  function setLang(l) { lang = l === "en" ? "en" : "vi"; localStorage.setItem("motcua.lang", lang); document.documentElement.lang = lang; }
  function t(dict, key, vars) {
    let s = (dict[lang] && dict[lang][key]) || dict.vi[key] || key;
    if (vars) for (const k in vars) s = s.split("{" + k + "}").join(vars[k]);
    return s;
  }
  function applyI18n(dict, root = document) {
    root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(dict, el.dataset.i18n); });
    root.querySelectorAll("[data-i18n-ph]").forEach((el) => { el.placeholder = t(dict, el.dataset.i18nPh); });
    document.documentElement.lang = lang;
  }
  function dur(ms) {
    if (ms == null) return "—";
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), ss = s % 60;
    const p = (x) => String(x).padStart(2, "0");
    return h ? `${h}:${p(m)}:${p(ss)}` : `${p(m)}:${p(ss)}`;
  }
  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v === true) e.setAttribute(k, "");
      else if (v !== false && v != null) e.setAttribute(k, v);
    }
    for (const kid of kids.flat()) if (kid != null) e.append(kid instanceof Node ? kid : String(kid));
    return e;
  }
  // A moment (ms or ISO text) as date and time in the site's time zone `tz`
  // (config site.timezone), never the browser's own zone.
  function dateTime(when, tz) {
    const d = new Date(when);
    if (isNaN(d.getTime())) return "";
    const o = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
      hourCycle: "h23" };
    try { return d.toLocaleString(lang === "en" ? "en-GB" : "vi-VN", Object.assign({ timeZone: tz }, o)); }
    catch (e) { return d.toISOString(); }          // an unknown zone: UTC, labelled as such
  }
  // The calendar year now in the site's time zone.
  function siteYear(tz) {
    try { return Number(new Intl.DateTimeFormat("en-US", { timeZone: tz, year: "numeric" }).format(new Date())); }
    catch (e) { return new Date().getUTCFullYear(); }
  }
  // The sign-in of the staff pages (admin, appointments, reports, staffing):
  // the session from /api/auth/me or the login form, the #view-login and
  // #view-app views, #who and the logout button. `opts.enter(user)` opens the
  // page; a user whose role is not in `opts.roles` gets `opts.denied()` on the
  // login view. Returns { boot, showLogin }.
  function staffPage(opts) {
    const $ = (id) => document.getElementById(id);
    const say = (msg, cls) => { $("login-msg").textContent = msg; $("login-msg").className = cls; };
    function showLogin(msg) {
      $("view-login").classList.remove("hidden"); $("view-app").classList.add("hidden"); $("btn-logout").classList.add("hidden");
      if (msg) say(msg, "msg err");
    }
    function enter(user) {
      if (opts.roles && !opts.roles.includes(user.role)) return showLogin(opts.denied());
      $("who").textContent = user.display_name || user.username;
      $("view-login").classList.add("hidden"); $("view-app").classList.remove("hidden"); $("btn-logout").classList.remove("hidden");
      return opts.enter(user);
    }
    $("login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const r = await api("POST", "/api/auth/login", { username: $("username").value, password: $("password").value });
        csrf = r.csrf_token; $("password").value = ""; say("", "msg");
        await enter(r.user);
      } catch (e) { say(e.message, "msg err"); }
    });
    $("btn-logout").addEventListener("click", async () => { try { await api("POST", "/api/auth/logout"); } catch (e) { /* gone */ } showLogin(); });
    async function boot() {
      let me;
      try { me = await api("GET", "/api/auth/me"); } catch (e) { return showLogin(); }
      if (!me.user) return showLogin();
      csrf = me.csrf_token; return enter(me.user);
    }
    return { boot, showLogin };
  }

  function wsUrl(path) { return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path; }

  return { api, ApiError, newKey, sleep, t, applyI18n, setLang, dur, el, wsUrl, readCookie, dateTime, siteYear, staffPage,
    get lang() { return lang; }, set csrf(v) { csrf = v; }, get csrf() { return csrf; }, params };
})();
