// The reports page (/reports): a period, filters, the summary's figures and
// tables, from GET /api/reports/summary (supervisor, admin). No build step.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const T = {
    vi: {
      title: "Báo cáo", logout: "Đăng xuất", login: "Đăng nhập", login_btn: "Đăng nhập", username: "Tên đăng nhập",
      password: "Mật khẩu", not_allowed: "Tài khoản này không xem được báo cáo.", from: "Từ ngày", to: "Đến ngày",
      category: "Lĩnh vực", counter: "Quầy", clerk: "Cán bộ", source: "Nguồn", all: "Tất cả", walk_in: "Trực tiếp",
      appointment: "Đặt lịch", show: "Xem", day: "Hôm nay", week: "Tuần", month: "Tháng", quarter: "Quý",
      half: "6 tháng", year: "Năm", custom: "Tùy chọn", issued: "Số phát", served: "Đã phục vụ", no_show: "Vắng mặt",
      expired: "Hết hạn", transferred: "Chuyển", wait: "Chờ TB (phút)", wait_p90: "Chờ p90 (phút)",
      service: "Phục vụ TB (phút)", level: "Mức đáp ứng", satisfied: "Hài lòng", hour: "Giờ",
      by_category: "Theo lĩnh vực", by_counter: "Theo quầy", by_clerk: "Theo cán bộ", by_hour: "Theo giờ",
      buckets: "Thời gian chờ (phút)", count: "Số", ratings: "Đánh giá", appointments: "Lịch hẹn",
      booked: "Đã đặt", cancelled: "Đã hủy", on_time: "Đúng giờ", late: "Muộn", online: "Đặt trực tuyến",
      loading: "Đang tải…",
    },
    en: {
      title: "Reports", logout: "Log out", login: "Log in", login_btn: "Log in", username: "Username",
      password: "Password", not_allowed: "This account cannot see reports.", from: "From", to: "To",
      category: "Category", counter: "Counter", clerk: "Clerk", source: "Source", all: "All", walk_in: "Walk-in",
      appointment: "Appointment", show: "Show", day: "Today", week: "Week", month: "Month", quarter: "Quarter",
      half: "6 months", year: "Year", custom: "Custom", issued: "Issued", served: "Served", no_show: "No-show",
      expired: "Expired", transferred: "Transferred", wait: "Wait mean (min)", wait_p90: "Wait p90 (min)",
      service: "Service mean (min)", level: "Service level", satisfied: "Satisfied", hour: "Hour",
      by_category: "By category", by_counter: "By counter", by_clerk: "By clerk", by_hour: "By hour",
      buckets: "Wait (min)", count: "Count", ratings: "Ratings", appointments: "Appointments",
      booked: "Booked", cancelled: "Cancelled", on_time: "On time", late: "Late", online: "Booked online",
      loading: "Loading…",
    },
  };
  const t = (k) => (T[MC.lang] || T.vi)[k] || k;
  const S = { tz: "Asia/Ho_Chi_Minh", period: "month" };
  const PERIODS = ["day", "week", "month", "quarter", "half", "year", "custom"];
  const mins = (s) => (s === null || s === undefined ? "–" : (s / 60).toFixed(1));
  const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(1) + " %");

  function today() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: S.tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  }
  const iso = (d) => d.toISOString().slice(0, 10);
  function range(p) {
    const end = today();
    const d = new Date(end + "T00:00:00Z");
    if (p === "day") return [end, end];
    if (p === "week") { const w = (d.getUTCDay() + 6) % 7; d.setUTCDate(d.getUTCDate() - w); return [iso(d), end]; }
    if (p === "month") { d.setUTCDate(1); return [iso(d), end]; }
    if (p === "quarter") { d.setUTCMonth(Math.floor(d.getUTCMonth() / 3) * 3, 1); return [iso(d), end]; }
    if (p === "half") { d.setUTCMonth(Math.floor(d.getUTCMonth() / 6) * 6, 1); return [iso(d), end]; }
    if (p === "year") { d.setUTCMonth(0, 1); return [iso(d), end]; }
    return [$("from").value || end, $("to").value || end];
  }

  function texts() {
    MC.applyI18n(T);
    $("btn-lang").textContent = MC.lang === "en" ? "Tiếng Việt" : "English";
    const nav = $("periods"); nav.textContent = "";
    for (const p of PERIODS) {
      const b = MC.el("button", { "data-period": p, class: p === S.period ? "on" : "" }, t(p));
      b.addEventListener("click", () => { S.period = p; texts(); if (p !== "custom") setRange(); load(); });
      nav.append(b);
    }
  }
  function setRange() { const [a, b] = range(S.period); $("from").value = a; $("to").value = b; }

  function query() {
    const q = new URLSearchParams({ from: $("from").value, to: $("to").value });
    const f = { category: $("f-category").value, counter: $("f-counter").value.trim(), clerk: $("f-clerk").value.trim(), source: $("f-source").value };
    for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
    return q;
  }

  function table(id, title, key, label, rows) {
    const head = [label, t("issued"), t("served"), t("no_show"), t("expired"), t("transferred"), t("wait"), t("wait_p90"), t("service"), t("level")];
    const tb = MC.el("tbody", {});
    for (const r of rows) {
      tb.append(MC.el("tr", {}, ...[r[key], r.issued, r.served, r.no_show, r.expired, r.transferred,
        mins(r.wait_s.mean), mins(r.wait_s.p90), mins(r.service_s.mean), pct(r.service_level)].map((v) => MC.el("td", {}, String(v)))));
    }
    return [MC.el("h3", {}, title), MC.el("table", { class: "rep", id },
      MC.el("thead", {}, MC.el("tr", {}, ...head.map((h) => MC.el("th", {}, h)))), tb)];
  }

  function render(s) {
    const out = $("report"); out.textContent = "";
    const k = (id, label, value) => MC.el("div", { class: "kpi", id }, label, MC.el("b", {}, String(value)));
    out.append(MC.el("div", { class: "kpis" },
      k("k-issued", t("issued"), s.totals.issued), k("k-served", t("served"), s.totals.served),
      k("k-no-show", t("no_show"), s.totals.no_show), k("k-expired", t("expired"), s.totals.expired),
      k("k-wait", t("wait"), mins(s.wait_s.mean)), k("k-wait-p90", t("wait_p90"), mins(s.wait_s.p90)),
      k("k-service", t("service"), mins(s.service_s.mean)), k("k-level", t("level"), pct(s.service_level)),
      k("k-satisfied", t("satisfied"), pct(s.ratings.satisfied_share)),
      k("k-online", t("online"), pct(s.appointments.online_share))));
    const b = MC.el("tbody", {});
    for (const [name, n] of Object.entries(s.wait_buckets)) b.append(MC.el("tr", {}, MC.el("td", {}, name), MC.el("td", {}, String(n))));
    out.append(MC.el("h3", {}, t("buckets")), MC.el("table", { class: "rep", id: "t-buckets" },
      MC.el("thead", {}, MC.el("tr", {}, MC.el("th", {}, t("buckets")), MC.el("th", {}, t("count")))), b));
    out.append(...table("t-category", t("by_category"), "category", t("category"), s.by_category));
    out.append(...table("t-counter", t("by_counter"), "counter", t("counter"), s.by_counter));
    out.append(...table("t-clerk", t("by_clerk"), "clerk", t("clerk"), s.by_clerk));
    out.append(...table("t-hour", t("by_hour"), "hour", t("hour"), s.by_hour));
    const a = s.appointments;
    out.append(MC.el("h3", {}, t("appointments")), MC.el("p", { id: "appointments" },
      `${t("booked")}: ${a.booked} · ${t("cancelled")}: ${a.cancelled} · ${t("on_time")}: ${a.checked_in_on_time} · ${t("late")}: ${a.checked_in_late} · ${t("no_show")}: ${a.no_show}`));
  }

  async function load() {
    const q = query();
    $("dl-csv").href = "/api/reports/export?" + q + "&format=csv";
    $("dl-xlsx").href = "/api/reports/export?" + q + "&format=xlsx";
    $("msg").textContent = t("loading"); $("msg").className = "msg";
    try {
      const s = await MC.api("GET", "/api/reports/summary?" + q);
      $("msg").textContent = ""; render(s);
      document.body.dataset.loaded = q.toString();
    } catch (e) { $("msg").textContent = e.message; $("msg").className = "msg err"; $("report").textContent = ""; }
  }

  async function enter(user) {
    if (user.role !== "admin" && user.role !== "supervisor") return showLogin(t("not_allowed"));
    $("who").textContent = user.display_name || user.username;
    $("view-login").classList.add("hidden"); $("view-app").classList.remove("hidden"); $("btn-logout").classList.remove("hidden");
    try { S.tz = (await MC.api("GET", "/api/site")).timezone || S.tz; } catch (e) { /* keep the default */ }
    const cats = (await MC.api("GET", "/api/categories")).categories || [];
    for (const c of cats) $("f-category").append(MC.el("option", { value: c.code }, `${c.code} – ${c.name}`));
    setRange(); texts(); load();
  }
  function showLogin(msg) {
    $("view-login").classList.remove("hidden"); $("view-app").classList.add("hidden"); $("btn-logout").classList.add("hidden");
    if (msg) { $("login-msg").textContent = msg; $("login-msg").className = "msg err"; }
  }
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await MC.api("POST", "/api/auth/login", { username: $("username").value, password: $("password").value });
      MC.csrf = r.csrf_token; $("password").value = "";
      enter(r.user);
    } catch (e) { $("login-msg").textContent = e.message; $("login-msg").className = "msg err"; }
  });
  $("btn-logout").addEventListener("click", async () => { try { await MC.api("POST", "/api/auth/logout"); } catch (e) { /* gone */ } showLogin(); });
  $("btn-lang").addEventListener("click", () => { MC.setLang(MC.lang === "en" ? "vi" : "en"); texts(); load(); });
  $("btn-show").addEventListener("click", () => { S.period = "custom"; texts(); load(); });
  for (const id of ["f-category", "f-source"]) $(id).addEventListener("change", load);
  for (const id of ["f-counter", "f-clerk"]) $(id).addEventListener("change", load);

  (async () => {
    MC.setLang(MC.lang); texts();
    try {
      const me = await MC.api("GET", "/api/auth/me");
      if (!me.user) return showLogin();
      MC.csrf = me.csrf_token; enter(me.user);
    } catch (e) { showLogin(); }
  })();
})();
