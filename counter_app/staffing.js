// The staffing plan page (/staffing): a weekday, the counters open in each
// session, the counters' work profiles and the share of booked visits; the
// simulated day of the current plan and of the proposed one side by side,
// by hour, as inline SVG charts, and the Erlang C counters needed per hour,
// from GET /api/staffing/plan (supervisor, admin). No build step, no CDN.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const T = {
    vi: {
      title: "Kế hoạch nhân sự", logout: "Đăng xuất", login: "Đăng nhập", login_btn: "Đăng nhập",
      username: "Tên đăng nhập", password: "Mật khẩu", not_allowed: "Tài khoản này không xem được kế hoạch nhân sự.",
      nav_supervisor: "Giám sát", nav_reports: "Báo cáo", weekday: "Thứ trong tuần", share: "Tỷ lệ đặt lịch (%)",
      run: "Mô phỏng", reset: "Như hiện tại", profiles_title: "Lĩnh vực từng quầy (theo thứ tự ưu tiên)",
      session: "Buổi", counters_open: "quầy mở", loading: "Đang mô phỏng…",
      days: ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"],
      current: "Hiện tại", proposed: "Phương án", wait: "Chờ trung bình (phút)", wait_p90: "Chờ p90 (phút)",
      level: "Mức đáp ứng (trong thời gian chờ mục tiêu)", standing: "Người phải đứng (nhiều nhất)",
      standing_min: "Số phút có người đứng", not_served: "Không kịp phục vụ", served: "Được phục vụ",
      ch_wait: "Thời gian chờ trung bình theo giờ (phút)", ch_level: "Mức đáp ứng theo giờ (%)",
      ch_room: "Người chờ trong phòng theo giờ (trung bình)", ch_standing: "Người đứng nhiều nhất theo giờ",
      seats: "ghế", hour: "Giờ", arrivals: "Lượt đến", erlang: "Erlang C: số quầy cần để 80 % chờ không quá mục tiêu",
      load: "Tải (erlang)", needed: "Quầy cần (từng lĩnh vực)", needed_pooled: "Quầy cần (chung một hàng)", overloaded: "quá tải", open_cur: "Mở (hiện tại)", open_new: "Mở (phương án)",
      profile: "Hồ sơ từ lịch sử (thứ này)", category: "Lĩnh vực", per_day: "Lượt đến/ngày", services: "Số lượt phục vụ",
      svc_mean: "Phục vụ TB (phút)", svc_p90: "Phục vụ p90 (phút)", no_show: "Vắng mặt", booked: "Đặt lịch",
      by_clerk: "Theo cán bộ (phút, ≥ 30 lượt)",
      ew_cur: "Chờ Erlang C hiện tại (phút)", ew_new: "Chờ Erlang C phương án (phút)",
      history: (a, b, n) => `Dữ liệu lịch sử: ${a || "–"} đến ${b || "–"}, ${n} ngày cùng thứ. Mỗi phương án là trung bình của các ngày mô phỏng với cùng lượt đến.`,
      no_history: "Chưa có lịch sử cho thứ này: chưa thể mô phỏng.",
      note: "Erlang C giả định: người đến ngẫu nhiên (Poisson), thời gian phục vụ phân bố mũ, phục vụ theo thứ tự đến, không ai bỏ về. Mô phỏng dùng đúng quy tắc gọi số của hệ thống (ưu tiên, chống chờ quá lâu, thứ tự lĩnh vực của quầy, lịch hẹn theo khung giờ). Thời gian chờ và mức đáp ứng tính trên những người được phục vụ; người không kịp phục vụ được đếm riêng.",
    },
    en: {
      title: "Staffing plan", logout: "Log out", login: "Log in", login_btn: "Log in", username: "Username",
      password: "Password", not_allowed: "This account cannot see the staffing plan.", nav_supervisor: "Supervisor",
      nav_reports: "Reports", weekday: "Weekday", share: "Booked online (%)", run: "Simulate", reset: "As today",
      profiles_title: "Each counter's categories (in priority order)", session: "Session", counters_open: "counters open",
      loading: "Simulating…", days: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
      current: "Current", proposed: "Proposed", wait: "Mean wait (min)", wait_p90: "Wait p90 (min)",
      level: "Service level (within the target wait)", standing: "People standing (most)",
      standing_min: "Minutes with people standing", not_served: "Not served in time", served: "Served",
      ch_wait: "Mean wait by hour (min)", ch_level: "Service level by hour (%)", ch_room: "People waiting in the room by hour (mean)",
      ch_standing: "Most people standing by hour", seats: "seats", hour: "Hour", arrivals: "Arrivals",
      erlang: "Erlang C: counters needed for 80 % within the target wait", load: "Load (erlangs)", needed: "Needed (per category)", needed_pooled: "Needed (one shared queue)", overloaded: "overloaded",
      open_cur: "Open (current)", open_new: "Open (proposed)", ew_cur: "Erlang C wait, current (min)",
      ew_new: "Erlang C wait, proposed (min)",
      profile: "Profile from the history (this weekday)", category: "Category", per_day: "Arrivals/day", services: "Services",
      svc_mean: "Service mean (min)", svc_p90: "Service p90 (min)", no_show: "No-show", booked: "Booked online",
      by_clerk: "By clerk (min, ≥ 30 services)",
      history: (a, b, n) => `History: ${a || "–"} to ${b || "–"}, ${n} days of this weekday. Each plan is the mean of simulated days with the same arrivals.`,
      no_history: "No history for this weekday yet: nothing to simulate.",
      note: "Erlang C assumes random (Poisson) arrivals, exponential service times, first come first served and nobody leaving. The simulation uses the system's own call rules (priority, the starvation guard, each counter's category order, appointments by slot). Waits and the service level count the people served; those not served in time are counted apart.",
    },
  };
  const t = (k, ...a) => { const v = (T[MC.lang] || T.vi)[k]; return typeof v === "function" ? v(...a) : (v === undefined ? k : v); };
  const S = { data: null, counters: [], sessions: [], categories: [], first: true };
  const num = (x, d = 1) => (x === null || x === undefined ? "–" : Number(x).toFixed(d));
  const ew = (w, load) => (w === null || w === undefined ? (load > 0 ? t("overloaded") : "–") : Number(w).toFixed(1));
  const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(0) + " %");
  const NS = "http://www.w3.org/2000/svg";
  const COL = { current: "#9ca3af", proposed: "#1d4ed8", seats: "#dc2626" };

  function svg(tag, attrs = {}, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // A chart of two series by hour: "bars" side by side, or "lines"; `limit`
  // draws a horizontal line (the seats).
  function chart(id, title, hours, series, kind, opts = {}) {
    const W = 420, H = 200, L = 36, R = 8, Tp = 10, B = 24;
    const vals = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
    const top = Math.max(opts.limit || 0, ...vals, opts.min || 1);
    // four gridlines at a round step (1, 2, 2.5 or 5 times a power of ten)
    const mag = Math.pow(10, Math.floor(Math.log10(top / 4)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st * 4 >= top);
    const max = step * 4;
    const x0 = (i) => L + (i * (W - L - R)) / hours.length;
    const bw = (W - L - R) / hours.length;
    const y = (v) => Tp + (H - Tp - B) * (1 - v / max);
    const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": title, id });
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      g.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e5e7eb" }));
      g.append(svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#6b7280" }, String(+v.toFixed(1))));
    }
    hours.forEach((h, i) => g.append(svg("text", { x: x0(i) + bw / 2, y: H - 8, "text-anchor": "middle", "font-size": 10, fill: "#374151" }, `${h}h`)));
    series.forEach((s, k) => {
      if (kind === "bars") {
        s.values.forEach((v, i) => {
          if (v === null || v === undefined) return;
          const w = bw * 0.38, x = x0(i) + bw * 0.1 + k * w;
          g.append(svg("rect", { x, y: y(v), width: w, height: Math.max(0, y(0) - y(v)), fill: s.color, "data-series": s.name, "data-value": v }));
        });
      } else {
        const pts = s.values.map((v, i) => (v === null || v === undefined ? null : `${x0(i) + bw / 2},${y(v)}`)).filter(Boolean);
        g.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": 2.5, "data-series": s.name }));
        s.values.forEach((v, i) => { if (v !== null && v !== undefined) g.append(svg("circle", { cx: x0(i) + bw / 2, cy: y(v), r: 3, fill: s.color })); });
      }
    });
    if (opts.limit) {
      g.append(svg("line", { x1: L, x2: W - R, y1: y(opts.limit), y2: y(opts.limit), stroke: COL.seats, "stroke-dasharray": "5 4", "stroke-width": 1.5 }));
      g.append(svg("text", { x: L + 3, y: y(opts.limit) - 3, "text-anchor": "start", "font-size": 10, "font-weight": 600, fill: COL.seats }, `${opts.limit} ${t("seats")}`));
    }
    const legend = MC.el("div", { class: "legend" }, ...series.flatMap((s) => [MC.el("i", { style: `background:${s.color}` }), s.label]));
    return MC.el("figure", {}, MC.el("figcaption", {}, title), g, legend);
  }

  function kpi(id, label, cur, prop) {
    return MC.el("div", { class: "kpi", id }, label,
      MC.el("b", {}, MC.el("span", { class: "cur" }, cur), " → ", MC.el("span", { class: "new", "data-proposed": "" }, prop)));
  }

  function render(d) {
    const out = $("result"); out.textContent = "";
    out.append(MC.el("p", { class: "note", id: "history" }, t("history", d.history_from, d.history_to, d.days_seen)));
    if (!d.days_seen) { out.append(MC.el("p", { class: "msg err" }, t("no_history"))); return; }
    const c = d.current, p = d.proposed;
    out.append(MC.el("div", { class: "kpis" },
      kpi("k-wait", t("wait"), num(c.mean_wait_min), num(p.mean_wait_min)),
      kpi("k-p90", t("wait_p90"), num(c.p90_wait_min), num(p.p90_wait_min)),
      kpi("k-level", t("level"), pct(c.service_level), pct(p.service_level)),
      kpi("k-standing", t("standing"), num(c.standing_max, 0), num(p.standing_max, 0)),
      kpi("k-standing-min", t("standing_min"), num(c.standing_minutes, 0), num(p.standing_minutes, 0)),
      kpi("k-not-served", t("not_served"), num(c.not_served, 0), num(p.not_served, 0))));
    const hours = [...new Set([...c.by_hour, ...p.by_hour].map((r) => r.hour))].sort((a, b) => a - b);
    const val = (plan, key, f = (x) => x) => hours.map((h) => { const r = plan.by_hour.find((x) => x.hour === h); return r && r[key] !== null && r[key] !== undefined ? f(r[key]) : null; });
    const two = (key, f) => [
      { name: "current", label: t("current"), color: COL.current, values: val(c, key, f) },
      { name: "proposed", label: t("proposed"), color: COL.proposed, values: val(p, key, f) },
    ];
    out.append(MC.el("div", { class: "charts" },
      chart("ch-wait", t("ch_wait"), hours, two("mean_wait_min"), "bars"),
      chart("ch-level", t("ch_level"), hours, two("service_level", (x) => Math.round(x * 100)), "lines", { min: 100 }),
      chart("ch-room", t("ch_room"), hours, two("present_mean"), "bars", { limit: d.seats }),
      chart("ch-standing", t("ch_standing"), hours, two("standing_max"), "bars")));
    const head = [t("hour"), t("load"), t("needed"), t("needed_pooled"), ...d.categories.map((x) => x.code), t("open_cur"), t("open_new"), t("ew_cur"), t("ew_new")];
    const tb = MC.el("tbody", {});
    for (const r of d.erlang) {
      const open = (plan) => { let n = 0; d.sessions.forEach((s, i) => { const a = +s.start.slice(0, 2), b = +s.end.slice(0, 2) + (s.end.endsWith(":00") ? 0 : 1); if (r.hour >= a && r.hour < b) n = Math.max(n, plan.open[i] || 0); }); return n; };
      tb.append(MC.el("tr", { "data-hour": r.hour }, ...[`${r.hour}h`, num(r.load, 2), r.needed, r.needed_pooled, ...d.categories.map((x) => r.by_category[x.code] ?? 0),
        open(c), open(p), ew(r.current_wait_min, r.load), ew(r.proposed_wait_min, r.load)].map((v) => MC.el("td", {}, String(v)))));
    }
    out.append(MC.el("h3", {}, t("erlang")), MC.el("table", { class: "rep", id: "t-erlang" },
      MC.el("thead", {}, MC.el("tr", {}, ...head.map((h) => MC.el("th", {}, h)))), tb));
    const pr = d.profile, pb = MC.el("tbody", {});
    for (const r of pr.categories) {
      const clerks = pr.clerks.filter((k) => r.code in k.service_mean_min).map((k) => `${k.clerk} ${num(k.service_mean_min[r.code])}`).join(", ");
      pb.append(MC.el("tr", {}, ...[r.code, num(r.per_day), r.services, num(r.service_mean_min), num(r.service_p90_min),
        pct(r.no_show_share), pct(r.appointment_share), clerks || "–"].map((v) => MC.el("td", {}, String(v)))));
    }
    const ph = [t("category"), t("per_day"), t("services"), t("svc_mean"), t("svc_p90"), t("no_show"), t("booked"), t("by_clerk")];
    out.append(MC.el("h3", {}, t("profile")), MC.el("table", { class: "rep", id: "t-profile" },
      MC.el("thead", {}, MC.el("tr", {}, ...ph.map((h) => MC.el("th", {}, h)))), pb));
    out.append(MC.el("p", { class: "note" }, t("note")));
  }

  function controls(d) {
    // built once per weekday's sessions; the values stay as the user set them
    const sess = $("sessions");
    const key = d.weekday + "|" + d.sessions.map((s) => s.start).join(",");
    if (sess.dataset.key !== key) {
      sess.textContent = "";
      d.sessions.forEach((s, i) => {
        const input = MC.el("input", { type: "number", id: `open-${i}`, min: 0, max: d.counters.length, value: d.proposed.open[i] ?? d.counters.length });
        sess.append(MC.el("label", {}, MC.el("span", {}, `${t("session")} ${s.start}–${s.end}: ${t("counters_open")}`), input));
      });
      sess.dataset.key = key;
    }
    const prof = $("profiles");
    if (!prof.childElementCount) {
      for (const ct of d.counters) {
        prof.append(MC.el("label", {}, MC.el("span", {}, ct.label), MC.el("input", { id: `profile-${ct.number}`, value: ct.categories.join(", "), "data-counter": ct.number, "data-default": ct.categories.join(", ") })));
      }
    }
    if ($("share").value === "") {
      $("share").value = Math.round((d.proposed.appointment_share || 0) * 100);
      $("share").dataset.default = $("share").value;  // unchanged: the history's share per category
    }
  }

  function query() {
    const q = new URLSearchParams({ weekday: $("weekday").value || "0" });
    const opens = [...$("sessions").querySelectorAll("input")].map((i) => i.value || "0");
    if (opens.length) q.set("open", opens.join(","));
    const changed = [...$("profiles").querySelectorAll("input")].filter((i) => i.value.trim() !== i.dataset.default)
      .map((i) => `${i.dataset.counter}:${i.value.split(/[\s,.]+/).filter(Boolean).join(".")}`);
    if (changed.length) q.set("profiles", changed.join(";"));
    if ($("share").value !== "" && $("share").value !== $("share").dataset.default) q.set("appointment_share", String(Math.min(100, Math.max(0, +$("share").value)) / 100));
    return q;
  }

  async function load() {
    const q = query();
    $("msg").textContent = t("loading"); $("msg").className = "msg";
    try {
      const d = await MC.api("GET", "/api/staffing/plan?" + q);
      S.data = d; controls(d); $("msg").textContent = ""; render(d);
      document.body.dataset.loaded = q.toString();
    } catch (e) { $("msg").textContent = e.message; $("msg").className = "msg err"; }
  }

  function texts() {
    MC.applyI18n(T);
    $("btn-lang").textContent = MC.lang === "en" ? "Tiếng Việt" : "English";
    const wd = $("weekday"), keep = wd.value || "0";
    wd.textContent = "";
    t("days").forEach((name, i) => wd.append(MC.el("option", { value: i }, name)));
    wd.value = keep;
    $("sessions").dataset.key = "";
    if (S.data) { controls(S.data); render(S.data); }
  }

  async function enter() {
    texts(); load();
  }
  const staff = MC.staffPage({ roles: ["admin", "supervisor"], denied: () => t("not_allowed"), enter });
  $("btn-lang").addEventListener("click", () => { MC.setLang(MC.lang === "en" ? "vi" : "en"); texts(); });
  $("plan-form").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  $("weekday").addEventListener("change", () => { $("sessions").textContent = ""; $("sessions").dataset.key = ""; load(); });
  $("btn-reset").addEventListener("click", () => {
    $("sessions").textContent = ""; $("sessions").dataset.key = ""; $("share").value = "";
    for (const i of $("profiles").querySelectorAll("input")) i.value = i.dataset.default;
    load();
  });

  MC.setLang(MC.lang); texts(); staff.boot();
})();
