// The supervisor's live view: queues per category, counters, today's figures
// and alerts, live over /ws/supervisor through the shared client (display/live.js).
// Waits and pauses grow with no event at all, so the page re-applies the alert
// rules of domain/supervision.py on its own clock (corrected by the server's
// "now") four times a second.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const T = {
    vi: {
      title: "Giám sát trực tiếp", login: "Đăng nhập giám sát", username: "Tên đăng nhập", password: "Mật khẩu",
      login_btn: "Đăng nhập", logout: "Đăng xuất", sound_on: "Bật âm báo", sound_off: "Tắt âm báo",
      nav_appointments: "Lịch hẹn hôm nay", nav_reports: "Báo cáo", nav_staffing: "Kế hoạch nhân sự",
      alerts: "Cảnh báo", no_alerts: "Không có cảnh báo.",
      k_issued: "Số phiếu đã cấp hôm nay", k_served: "Đã phục vụ", k_noshow: "Vắng mặt", k_waiting: "Đang chờ / số ghế",
      k_avg: "TB thời gian phục vụ", k_open: "Quầy mở / tạm dừng",
      categories: "Theo lĩnh vực", category: "Lĩnh vực", waiting: "Đang chờ", longest: "Chờ lâu nhất",
      target: "Thời gian chờ chuẩn", eta: "Dự kiến chờ (người mới)", issued: "Cấp hôm nay",
      counters: "Theo quầy", counter: "Quầy", status: "Trạng thái", clerk: "Cán bộ", serving: "Đang phục vụ",
      service_time: "Thời gian phục vụ", served: "Đã phục vụ", avg_service: "TB phục vụ", no_shows: "Vắng mặt",
      st_open: "Đang mở", st_paused: "Tạm dừng", st_closed: "Đóng", paused_for: "Tạm dừng {d}",
      online: "Trực tuyến", offline: "Mất kết nối – đang kết nối lại…", minutes: "{n} phút", eta_range: "{a}–{b} phút",
      a_wait: "{name}: số chờ lâu nhất đã chờ {d}, quá thời gian chờ chuẩn {t} phút.",
      a_seats: "Hết ghế chờ: {n} người đang chờ, phòng có {s} ghế.",
      a_paused: "Quầy {n} đã tạm dừng {d} (giới hạn {t} phút).",
      updated: "Cập nhật lúc {t} (giờ của trung tâm)", direct: "+{n} chuyển thẳng",
    },
    en: {
      title: "Live supervision", login: "Supervisor login", username: "Username", password: "Password",
      login_btn: "Log in", logout: "Log out", sound_on: "Sound on", sound_off: "Sound off",
      nav_appointments: "Today's appointments", nav_reports: "Reports", nav_staffing: "Staffing plan",
      alerts: "Alerts", no_alerts: "No alerts.",
      k_issued: "Tickets issued today", k_served: "Served", k_noshow: "No-shows", k_waiting: "Waiting / seats",
      k_avg: "Avg. service time", k_open: "Counters open / paused",
      categories: "By category", category: "Category", waiting: "Waiting", longest: "Longest wait",
      target: "Target wait", eta: "ETA (next to join)", issued: "Issued today",
      counters: "By counter", counter: "Counter", status: "Status", clerk: "Clerk", serving: "Serving",
      service_time: "Service time", served: "Served", avg_service: "Avg. service", no_shows: "No-shows",
      st_open: "Open", st_paused: "Paused", st_closed: "Closed", paused_for: "Paused {d}",
      online: "Online", offline: "Disconnected – reconnecting…", minutes: "{n} min", eta_range: "{a}–{b} min",
      a_wait: "{name}: the longest wait is {d}, past the {t} min target.",
      a_seats: "Seats full: {n} waiting, the room has {s} seats.",
      a_paused: "Counter {n} has been paused for {d} (limit {t} min).",
      updated: "Updated at {t} (centre time)", direct: "+{n} sent directly",
    },
  };
  const t = (k, v) => MC.t(T, k, v);
  const S = { snap: null, skew: 0, live: null, sound: false, audio: null, shown: "", known: new Set() };

  function show(view) {
    $("view-login").classList.toggle("hidden", view !== "login");
    $("view-app").classList.toggle("hidden", view !== "app");
    $("btn-logout").classList.toggle("hidden", view !== "app");
    $("conn").classList.toggle("hidden", view !== "app");
    if (view === "login") setTimeout(() => $("username").focus(), 0);
  }
  function texts() {
    MC.applyI18n(T);
    $("btn-lang").textContent = MC.lang === "en" ? "Tiếng Việt" : "English";
    $("btn-sound").textContent = t(S.sound ? "sound_off" : "sound_on");
    if (S.snap) render(S.snap);
    setConn(S.live ? S.live.online : false);
  }
  function setConn(on) {
    const c = $("conn"); c.dataset.state = on ? "on" : "off";
    c.textContent = t(on ? "online" : "offline"); c.className = "pill " + (on ? "open" : "paused");
  }
  const label = (x) => (MC.lang === "en" && x.name_en ? x.name_en : x.name);
  const now = () => Date.now() + S.skew;                 // the server's clock
  const mins = (ms) => Math.round(ms / 60000);
  function siteTime(ms) {
    const tz = S.snap && S.snap.site.timezone;
    try {
      return new Date(ms).toLocaleTimeString(MC.lang === "en" ? "en-GB" : "vi-VN",
        { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    } catch (e) { return new Date(ms).toISOString().slice(11, 19) + " UTC"; }
  }

  // -- the alert rules of domain/supervision.py, at the server's "now" ---------------------------
  function alerts(d, at) {
    const out = [];
    for (const c of d.categories) {
      if (c.oldest_since == null) continue;
      const wait = Math.max(0, at - c.oldest_since);
      if (wait > c.target_ms) out.push({ kind: "wait", key: "wait:" + c.category, category: c.category, wait_ms: wait, target_ms: c.target_ms, name: label(c) });
    }
    if (d.seats > 0 && d.waiting_total >= d.seats) out.push({ kind: "seats", key: "seats", waiting: d.waiting_total, seats: d.seats });
    for (const c of d.counters) {
      if (c.status !== "paused" || c.since == null) continue;
      const paused = Math.max(0, at - c.since);
      if (paused >= d.pause_alert_ms) out.push({ kind: "paused", key: "paused:" + c.counter, counter: c.counter, paused_ms: paused, limit_ms: d.pause_alert_ms });
    }
    return out;
  }
  function alertText(a) {
    if (a.kind === "wait") return t("a_wait", { name: a.name, d: MC.dur(a.wait_ms), t: mins(a.target_ms) });
    if (a.kind === "seats") return t("a_seats", { n: a.waiting, s: a.seats });
    return t("a_paused", { n: a.counter, d: MC.dur(a.paused_ms), t: mins(a.limit_ms) });
  }

  // -- a short generated beep (WebAudio; nothing downloaded) --------------------------------------
  function beep() {
    if (!S.sound || !S.audio) return;
    try {
      const ctx = S.audio, o = ctx.createOscillator(), g = ctx.createGain();
      o.type = "sine"; o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, ctx.currentTime);
      g.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.35);
      o.connect(g); g.connect(ctx.destination); o.start(); o.stop(ctx.currentTime + 0.4);
      S.beeps = (S.beeps || 0) + 1; document.body.dataset.beeps = String(S.beeps);
    } catch (e) { /* no audio on this machine */ }
  }
  $("btn-sound").addEventListener("click", () => {
    S.sound = !S.sound;
    if (S.sound && !S.audio) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (AC) S.audio = new AC();
    }
    if (S.audio && S.audio.state === "suspended") S.audio.resume();
    $("btn-sound").setAttribute("aria-pressed", String(S.sound));
    $("btn-sound").classList.toggle("on", S.sound);
    $("btn-sound").textContent = t(S.sound ? "sound_off" : "sound_on");
    if (S.sound) beep();                               // the sound it will make
  });

  // -- rendering -------------------------------------------------------------------------------------
  function render(d) {
    S.snap = d; S.skew = d.now - Date.now();
    $("site-name").textContent = "· " + label(d.site);
    const k = d.today;
    $("kpi-issued").textContent = k.issued; $("kpi-served").textContent = k.served;
    $("kpi-noshow").textContent = k.no_shows;
    $("kpi-waiting").textContent = d.seats > 0 ? `${k.waiting} / ${d.seats}` : String(k.waiting);
    $("kpi-avg").textContent = MC.dur(k.avg_service_ms);
    $("kpi-open").textContent = `${k.counters_open} / ${k.counters_paused}`;
    const cb = $("categories").querySelector("tbody"); cb.textContent = "";
    for (const c of d.categories) {
      const eta = c.count || c.eta_minutes ? (c.eta_range ? t("eta_range", { a: c.eta_range[0], b: c.eta_range[1] }) : t("minutes", { n: c.eta_minutes })) : "—";
      cb.append(MC.el("tr", { "data-category": c.category },
        MC.el("td", {}, `${c.prefix} · ${label(c)}`),
        MC.el("td", { class: "num count" }, c.count),
        MC.el("td", { class: "num wait" }, "—"),
        MC.el("td", { class: "num" }, t("minutes", { n: mins(c.target_ms) })),
        MC.el("td", { class: "num eta" }, eta),
        MC.el("td", { class: "num" }, c.issued_today)));
    }
    const tb = $("counters").querySelector("tbody"); tb.textContent = "";
    for (const c of d.counters) {
      const cat = d.categories.find((x) => x.category === c.category);
      tb.append(MC.el("tr", { "data-counter": c.counter, "data-status": c.status },
        MC.el("td", {}, c.name + (c.direct_count ? " " + t("direct", { n: c.direct_count }) : "")),
        MC.el("td", {}, MC.el("span", { class: "pill " + c.status }, t("st_" + c.status))),
        MC.el("td", { class: "clerk" }, c.clerk || "—"),
        MC.el("td", { class: "serving" }, c.number ? `${c.number}${cat ? " · " + label(cat) : ""}` : "—"),
        MC.el("td", { class: "num service" }, "—"),
        MC.el("td", { class: "num" }, c.served),
        MC.el("td", { class: "num" }, MC.dur(c.avg_service_ms)),
        MC.el("td", { class: "num" }, c.no_shows)));
    }
    $("updated").textContent = t("updated", { t: siteTime(d.now) });
    S.shown = "";          // the alert list is drawn again by tick()
    tick();
  }

  function tick() {
    const at = now();
    if (S.snap) $("clock").textContent = siteTime(at);
    const d = S.snap;
    if (!d) return;
    for (const c of d.categories) {
      const row = $("categories").querySelector(`tr[data-category="${c.category}"]`);
      if (!row) continue;
      const wait = c.oldest_since == null ? null : Math.max(0, at - c.oldest_since);
      row.querySelector(".wait").textContent = wait == null ? "—" : MC.dur(wait);
      row.classList.toggle("over", wait != null && wait > c.target_ms);
    }
    for (const c of d.counters) {
      const row = $("counters").querySelector(`tr[data-counter="${c.counter}"]`);
      if (!row) continue;
      row.querySelector(".service").textContent = c.called_at ? MC.dur(Math.max(0, at - c.called_at)) : "—";
      if (c.status === "paused" && c.since != null) {
        row.querySelector(".pill").textContent = t("paused_for", { d: MC.dur(Math.max(0, at - c.since)) });
      }
    }
    const list = alerts(d, at);
    const fresh = list.filter((a) => !S.known.has(a.key));
    S.known = new Set(list.map((a) => a.key));
    if (fresh.length) beep();
    const ul = $("alert-list"); ul.textContent = "";
    for (const a of list) {
      const li = MC.el("li", { "data-alert": a.kind }, alertText(a));
      if (a.category) li.dataset.category = a.category;
      if (a.counter) li.dataset.counter = a.counter;
      ul.append(li);
    }
    const badge = $("alert-badge");
    badge.textContent = String(list.length); badge.dataset.count = String(list.length);
    badge.classList.toggle("zero", !list.length);
    $("alerts").classList.toggle("none", !list.length);
    $("alert-none").classList.toggle("hidden", list.length > 0);
    document.title = (list.length ? `(${list.length}) ` : "") + t("title") + " – motcua";
  }

  // -- live feed ------------------------------------------------------------------------------------
  function connect() {
    if (S.live) return S.live.reconnect();
    S.live = new MotcuaLive({
      url: () => MC.wsUrl("/ws/supervisor"),
      gaps: false,
      fatalCodes: [4401, 4403],
      onSnapshot: (s) => render(s.board),
      onMessage: (d) => {
        if (d.type !== "event") return;
        if (S.snap && d.seq != null && S.snap.seq != null && d.seq < S.snap.seq) return;   // stale
        render(d);
      },
      onStatus: (st) => { if (st !== "banner") setConn(st === "online"); },
      onFatal: (f) => { if (f.code === 4403) location.reload(); else show("login"); },
    });
    S.live.start();
  }

  async function boot() {
    MC.setLang(MC.lang); texts();
    setInterval(tick, 250);
    try {
      const me = await MC.api("GET", "/api/auth/me");
      if (!me.user) return show("login");
      MC.csrf = me.csrf_token;
      show("app"); connect();
    } catch (e) { show("login"); }
  }
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const m = $("login-msg"); m.textContent = ""; m.className = "msg";
    try {
      await MC.api("POST", "/api/auth/login", { username: $("username").value, password: $("password").value });
      location.reload();                               // the server decides: this view, or its 403 page
    } catch (e) { m.textContent = e.message; m.className = "msg err"; }
  });
  $("btn-lang").addEventListener("click", () => { MC.setLang(MC.lang === "en" ? "vi" : "en"); texts(); });
  $("btn-logout").addEventListener("click", async () => {
    try { await MC.api("POST", "/api/auth/logout"); } catch (e) { /* gone already */ }
    if (S.live) S.live.stop();
    show("login");
  });
  boot();
})();
