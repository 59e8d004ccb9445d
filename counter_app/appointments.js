// A day's appointments for the supervisor (name, masked phone, slot, status), printable.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const E = MC.el;
  const T = {
    vi: {
      title: "Lịch hẹn trong ngày", counter_app: "Quầy", logout: "Đăng xuất", login: "Đăng nhập", login_btn: "Đăng nhập",
      username: "Tên đăng nhập", password: "Mật khẩu", day: "Ngày", today: "Hôm nay", print: "In danh sách",
      slot: "Giờ hẹn", code: "Mã", category: "Lĩnh vực", name: "Họ tên", phone: "Điện thoại", status: "Trạng thái",
      empty: "Không có lịch hẹn nào trong ngày này.", total: "Tổng", cancel: "Hủy", cancel_q: "Hủy lịch hẹn {code} lúc {time}?",
      cancelled_ok: "Đã hủy lịch hẹn {code}.", printed_at: "In lúc {t} · {n} lịch hẹn",
      st_booked: "Đã đặt", st_checked_in: "Đã nhận số", st_no_show: "Vắng mặt", st_cancelled: "Đã hủy", st_late: "Đến muộn",
      st_pending_otp: "Chờ xác minh",
    },
    en: {
      title: "Today's appointments", counter_app: "Counter", logout: "Log out", login: "Log in", login_btn: "Log in",
      username: "Username", password: "Password", day: "Day", today: "Today", print: "Print the list",
      slot: "Time", code: "Code", category: "Category", name: "Name", phone: "Phone", status: "Status",
      empty: "No appointments on this day.", total: "Total", cancel: "Cancel", cancel_q: "Cancel appointment {code} at {time}?",
      cancelled_ok: "Appointment {code} cancelled.", printed_at: "Printed {t} · {n} appointments",
      st_booked: "Booked", st_checked_in: "Checked in", st_no_show: "No-show", st_cancelled: "Cancelled", st_late: "Late",
      st_pending_otp: "Awaiting verification",
    },
  };
  const t = (k, v) => MC.t(T, k, v);
  const S = { user: null, site: null, cats: {}, rows: [] };
  const siteToday = () => {
    const tz = (S.site && S.site.timezone) || "Asia/Ho_Chi_Minh";
    try { return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date()); }
    catch (e) { return new Date().toISOString().slice(0, 10); }
  };
  const say = (text, kind) => { $("msg").textContent = text || ""; $("msg").className = "msg" + (kind ? " " + kind : ""); };
  const catName = (code) => { const c = S.cats[code]; return c ? `${c.prefix} · ${MC.lang === "en" && c.name_en ? c.name_en : c.name_vi}` : code; };
  const dayText = (iso) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

  function texts() {
    MC.applyI18n(T);
    $("btn-lang").textContent = MC.lang === "en" ? "Tiếng Việt" : "English";
    document.title = t("title") + " – motcua";
  }
  async function boot() {
    MC.setLang(MC.lang); texts();
    try { S.site = await MC.api("GET", "/api/site"); } catch (e) { S.site = null; }
    return staff.boot();
  }
  const staff = MC.staffPage({ enter });
  const showLogin = staff.showLogin;
  async function enter(user) {
    S.user = user;
    try {
      for (const c of (await MC.api("GET", "/api/categories")).categories) S.cats[c.code] = c;
    } catch (e) { /* codes instead of names */ }
    const q = MC.params.get("date");
    $("day").value = q && /^\d{4}-\d{2}-\d{2}$/.test(q) ? q : siteToday();
    await load();
  }
  async function load() {
    say("");
    let r;
    try { r = await MC.api("GET", "/api/appointments?date=" + encodeURIComponent($("day").value)); }
    catch (e) { if (e.status === 401) return showLogin(); say(e.message, "err"); return; }
    S.rows = r.appointments.slice().sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.code < b.code ? -1 : 1));
    render(r.date);
  }
  function render(day) {
    const body = $("list").querySelector("tbody");
    body.textContent = "";
    const count = {};
    const mayCancel = S.user && (S.user.role === "supervisor" || S.user.role === "admin");
    for (const a of S.rows) {
      count[a.status] = (count[a.status] || 0) + 1;
      const time = a.start.slice(11, 16);
      body.append(E("tr", { "data-id": a.id, "data-code": a.code, "data-status": a.status },
        E("td", { class: "time" }, time), E("td", { class: "code" }, a.code), E("td", {}, catName(a.category)),
        E("td", { class: "name" }, a.name || "—"), E("td", { class: "phone" }, a.phone || "—"),
        E("td", {}, E("span", { class: "st " + a.status }, t("st_" + a.status))),
        E("td", { class: "no-print" }, mayCancel && a.status === "booked"
          ? E("button", { class: "act danger", type: "button", "data-action": "cancel", onclick: () => cancel(a, time) }, t("cancel")) : null)));
    }
    $("empty").classList.toggle("hidden", S.rows.length > 0);
    const c = $("counts"); c.textContent = "";
    c.append(E("span", {}, t("total") + ": ", E("b", {}, String(S.rows.length))));
    for (const st of ["booked", "checked_in", "late", "no_show", "cancelled"]) {
      if (count[st]) c.append(E("span", { "data-status": st }, t("st_" + st) + ": ", E("b", {}, String(count[st]))));
    }
    const site = S.site ? (MC.lang === "en" && S.site.name_en ? S.site.name_en : S.site.name) : "";
    $("print-title").textContent = `${t("title")} ${dayText(day)}${site ? " – " + site : ""}`;
    $("print-sub").textContent = t("printed_at", { t: MC.dateTime(Date.now(), (S.site && S.site.timezone) || "Asia/Ho_Chi_Minh"), n: S.rows.length });
    document.body.dataset.loaded = day;
  }
  async function cancel(a, time) {
    if (!window.confirm(t("cancel_q", { code: a.code, time: time }))) return;
    try { await MC.api("POST", `/api/appointments/${encodeURIComponent(a.id)}/cancel`); say(t("cancelled_ok", { code: a.code }), "ok"); }
    catch (e) { say(e.message, "err"); }
    await load();
  }
  $("btn-lang").addEventListener("click", () => { MC.setLang(MC.lang === "en" ? "vi" : "en"); texts(); if (S.user) render($("day").value); });
  $("day").addEventListener("change", () => { if ($("day").value) load(); });
  $("btn-today").addEventListener("click", () => { $("day").value = siteToday(); load(); });
  $("btn-print").addEventListener("click", () => window.print());
  boot();
})();
