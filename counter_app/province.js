// The province admin page (/province): every site of the deployment with its
// report totals, and a form to add a site with its first admin account.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const E = MC.el;
  const T = {
    vi: {
      title: "Quản trị cấp tỉnh", logout: "Đăng xuất", login: "Đăng nhập cấp tỉnh", username: "Tên đăng nhập",
      password: "Mật khẩu", login_btn: "Đăng nhập", sites: "Các đơn vị", from: "Từ ngày", to: "đến ngày", refresh: "Tải lại",
      id: "Mã", name: "Tên đơn vị", address: "Địa chỉ", issued: "Đã cấp số", served: "Đã phục vụ", no_show: "Vắng mặt",
      total: "Tổng cộng", add: "Thêm đơn vị", id_help: "Mã đơn vị (chữ thường, số, gạch ngang)", tz: "Múi giờ",
      counters: "Số quầy", hosts: "Tên miền riêng (không bắt buộc, cách nhau dấu phẩy)",
      admin_user: "Tài khoản quản trị của đơn vị", admin_pass: "Mật khẩu (≥ 8 ký tự)", add_btn: "Thêm đơn vị",
      added: "Đã thêm đơn vị “{name}”. Trang của đơn vị: {path}", default_site: "(mặc định)",
      not_province: "Tài khoản này không phải tài khoản cấp tỉnh.",
    },
    en: {
      title: "Province administration", logout: "Log out", login: "Province login", username: "Username",
      password: "Password", login_btn: "Log in", sites: "Sites", from: "From", to: "to", refresh: "Reload",
      id: "Id", name: "Site name", address: "Address", issued: "Issued", served: "Served", no_show: "No-show",
      total: "Total", add: "Add a site", id_help: "Site id (lower-case letters, digits, hyphens)", tz: "Time zone",
      counters: "Counters", hosts: "Own host names (optional, comma separated)",
      admin_user: "The site's admin account", admin_pass: "Password (≥ 8 characters)", add_btn: "Add site",
      added: "Site “{name}” added. Its pages: {path}", default_site: "(default)",
      not_province: "This account is not a province account.",
    },
  };
  const t = (k, v) => MC.t(T, k, v);
  function show(view) {
    $("view-login").classList.toggle("hidden", view !== "login");
    $("view-app").classList.toggle("hidden", view !== "app");
    $("btn-logout").classList.toggle("hidden", view !== "app");
  }
  function say(text, bad) { const m = $("msg"); m.textContent = text; m.className = "msg " + (bad ? "err" : "ok"); }

  async function load() {
    const q = new URLSearchParams();
    if ($("from").value) q.set("from", $("from").value);
    if ($("to").value) q.set("to", $("to").value);
    const [sites, sum] = await Promise.all([MC.api("GET", "/api/province/sites"), MC.api("GET", "/api/province/summary?" + q)]);
    const totals = Object.fromEntries(sum.sites.map((s) => [s.id, s.totals]));
    const body = $("sites").querySelector("tbody");
    body.replaceChildren(...sites.sites.map((s) => {
      const tt = totals[s.id] || {};
      return E("tr", { "data-site": s.id }, E("td", {}, s.id),
        E("td", {}, s.name, s.default ? " " + t("default_site") : ""),
        E("td", {}, E("a", { href: s.path + "admin" }, s.path)),
        E("td", { class: "num" }, String(tt.issued ?? "—")), E("td", { class: "num" }, String(tt.served ?? "—")),
        E("td", { class: "num" }, String(tt.no_show ?? "—")));
    }));
    for (const k of ["issued", "served", "no_show"]) $("t-" + k).textContent = String(sum.totals[k]);
  }

  async function start() {
    MC.applyI18n(T);
    $("btn-lang").textContent = MC.lang === "en" ? "Tiếng Việt" : "English";
    try {
      const me = await MC.api("GET", "/api/auth/me");
      if (!me.user || me.user.role !== "province") { show("login"); $("login-msg").textContent = me.user ? t("not_province") : ""; return; }
      MC.csrf = me.csrf_token;
      $("who").textContent = me.user.display_name || me.user.username;
      show("app");
    } catch (e) { show("login"); return; }
    await load().catch((e) => say(e.message, true));
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await MC.api("POST", "/api/province/login", { username: $("username").value, password: $("password").value });
      MC.csrf = r.csrf_token;
      await start();
    } catch (e) { $("login-msg").textContent = e.message; }
  });
  $("btn-logout").addEventListener("click", async () => { try { await MC.api("POST", "/api/province/logout"); } finally { show("login"); } });
  $("btn-refresh").addEventListener("click", () => load().catch((e) => say(e.message, true)));
  $("btn-lang").addEventListener("click", () => { MC.setLang(MC.lang === "en" ? "vi" : "en"); start(); });
  $("add-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const hosts = $("s-hosts").value.split(",").map((h) => h.trim()).filter(Boolean);
    try {
      const r = await MC.api("POST", "/api/province/sites", {
        id: $("s-id").value.trim(), name: $("s-name").value.trim(), timezone: $("s-tz").value.trim(),
        counters: Number($("s-counters").value), hosts, admin_username: $("s-admin").value.trim(), admin_password: $("s-pass").value,
      });
      say(t("added", { name: r.site.name, path: r.site.path }));
      $("s-pass").value = "";
      await load();
    } catch (e) { say(e.message, true); }
  });
  start();
})();
