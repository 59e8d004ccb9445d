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
      compare: "So với kỳ trước", previous: "Kỳ trước", charts: "Biểu đồ",
      c_arr_hour: "Lượt đến theo giờ trong ngày", c_wait_hour: "Thời gian chờ theo giờ trong ngày",
      c_arr_wd: "Lượt đến theo thứ trong tuần", c_wait_wd: "Thời gian chờ theo thứ trong tuần",
      c_heat: "Lượt đến theo giờ × thứ", c_buckets: "Số đã phục vụ theo thời gian chờ",
      c_ratings: "Mức độ hài lòng (số lượt đánh giá theo mức)", c_level_cat: "Mức đáp ứng theo lĩnh vực",
      x_hour: "Giờ trong ngày", x_weekday: "Thứ trong tuần", y_issued: "Số phát", y_wait: "Chờ TB (phút)",
      x_buckets: "Thời gian chờ (phút)", y_served: "Số đã phục vụ", x_level: "Mức đánh giá", y_ratings: "Số lượt",
      y_level: "Mức đáp ứng (%)", heat_legend: "Ô đậm nhất: {n} lượt", no_data: "Chưa có dữ liệu trong kỳ này.",
      weekdays: "T2,T3,T4,T5,T6,T7,CN", making: "Đang tạo báo cáo… {p} %", made: "Đã tạo xong:", download: "Tải về",
      failed: "Không tạo được báo cáo.", periodic: "Báo cáo định kỳ (tháng, quý)", no_periodic: "Chưa có báo cáo định kỳ.",
      points: "điểm",
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
      compare: "Compare with the previous period", previous: "Previous period", charts: "Charts",
      c_arr_hour: "Arrivals by hour of day", c_wait_hour: "Wait by hour of day",
      c_arr_wd: "Arrivals by weekday", c_wait_wd: "Wait by weekday",
      c_heat: "Arrivals by hour × weekday", c_buckets: "Served tickets by wait",
      c_ratings: "Satisfaction (ratings per level)", c_level_cat: "Service level by category",
      x_hour: "Hour of day", x_weekday: "Weekday", y_issued: "Issued", y_wait: "Wait mean (min)",
      x_buckets: "Wait (min)", y_served: "Served", x_level: "Rating level", y_ratings: "Ratings",
      y_level: "Service level (%)", heat_legend: "Darkest cell: {n} arrivals", no_data: "No data in this period.",
      weekdays: "Mon,Tue,Wed,Thu,Fri,Sat,Sun", making: "Making the report… {p} %", made: "Ready:", download: "Download",
      failed: "The report could not be made.", periodic: "Kept reports (months, quarters)", no_periodic: "No kept reports yet.",
      points: "pt",
    },
  };
  const t = (k, vars) => {
    let s = (T[MC.lang] || T.vi)[k] || k;
    for (const [n, v] of Object.entries(vars || {})) s = s.replace("{" + n + "}", v);
    return s;
  };
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

  // Each KPI: its id, label, how to read it from a summary, its kind (count,
  // minutes, share) and which way is better (+1 more is better, -1 less is, 0 neither).
  const KPIS = [
    ["k-issued", "issued", (s) => s.totals.issued, "n", 0],
    ["k-served", "served", (s) => s.totals.served, "n", 1],
    ["k-no-show", "no_show", (s) => s.totals.no_show, "n", -1],
    ["k-expired", "expired", (s) => s.totals.expired, "n", -1],
    ["k-wait", "wait", (s) => s.wait_s.mean, "min", -1],
    ["k-wait-p90", "wait_p90", (s) => s.wait_s.p90, "min", -1],
    ["k-service", "service", (s) => s.service_s.mean, "min", 0],
    ["k-level", "level", (s) => s.service_level, "share", 1],
    ["k-satisfied", "satisfied", (s) => s.ratings.satisfied_share, "share", 1],
    ["k-online", "online", (s) => s.appointments.online_share, "share", 0],
  ];
  const show = (v, kind) => (kind === "min" ? mins(v) : kind === "share" ? pct(v) : String(v));
  const nf = (x, d) => Math.abs(x).toFixed(d);
  // "▲ 12", "▼ 1.5", "▲ 2.0 điểm"; class up/down and good/bad/neutral
  function delta(cur, prev, kind, sense) {
    if (cur === null || cur === undefined || prev === null || prev === undefined) return MC.el("span", { class: "delta none" }, "–");
    const d = kind === "min" ? cur / 60 - prev / 60 : kind === "share" ? (cur - prev) * 100 : cur - prev;
    const r = kind === "n" ? Math.round(d) : Math.round(d * 10) / 10;
    const arrow = r > 0 ? "▲" : r < 0 ? "▼" : "=";
    const txt = kind === "n" ? nf(r, 0) : kind === "share" ? `${nf(r, 1)} ${t("points")}` : nf(r, 1);
    const tone = r === 0 || sense === 0 ? "neutral" : (r > 0) === (sense > 0) ? "good" : "bad";
    return MC.el("span", { class: `delta ${tone}`, "data-delta": String(r), title: `${t("previous")}: ${show(prev, kind)}` },
      r === 0 ? "= 0" : `${arrow} ${txt}`);
  }

  function charts(s) {
    const C = window.MCCharts, wd = t("weekdays").split(",");
    const hours = s.by_hour.map((r) => r.hour);
    const lo = Math.min(7, ...hours), hi = Math.max(17, ...hours);
    const hrs = []; for (let h = lo; h <= hi; h++) hrs.push(h);
    const byHour = Object.fromEntries(s.by_hour.map((r) => [r.hour, r]));
    const byWd = Object.fromEntries(s.by_weekday.map((r) => [r.weekday, r]));
    const heat = Object.fromEntries(s.by_hour_weekday.map((r) => [r.weekday + ":" + r.hour, r.issued]));
    const wmin = (r) => (r && r.wait_s.mean !== null ? Math.round(r.wait_s.mean / 6) / 10 : null);
    const one = (v) => v.toFixed(1);
    const empty = t("no_data");
    const days = [0, 1, 2, 3, 4, 5, 6];
    const levels = Object.keys(s.ratings.by_level);
    const cats = s.by_category;
    return MC.el("div", { class: "charts", id: "charts" },
      C.bars({ id: "c-arrivals-hour", title: t("c_arr_hour"), labels: hrs.map((h) => h + "h"), values: hrs.map((h) => (byHour[h] ? byHour[h].issued : 0)),
        xLabel: t("x_hour"), yLabel: t("y_issued"), empty }),
      C.bars({ id: "c-wait-hour", title: t("c_wait_hour"), labels: hrs.map((h) => h + "h"), values: hrs.map((h) => wmin(byHour[h])),
        xLabel: t("x_hour"), yLabel: t("y_wait"), fmt: one, kind: "wait", empty }),
      C.bars({ id: "c-arrivals-weekday", title: t("c_arr_wd"), labels: wd, values: days.map((d) => (byWd[d] ? byWd[d].issued : 0)),
        xLabel: t("x_weekday"), yLabel: t("y_issued"), empty }),
      C.bars({ id: "c-wait-weekday", title: t("c_wait_wd"), labels: wd, values: days.map((d) => wmin(byWd[d])),
        xLabel: t("x_weekday"), yLabel: t("y_wait"), fmt: one, kind: "wait", empty }),
      C.heatmap({ id: "c-heatmap", title: t("c_heat"), rows: wd, cols: hrs.map((h) => h + "h"), value: (r, c) => heat[r + ":" + hrs[c]] || 0,
        xLabel: t("x_hour"), legend: (n) => t("heat_legend", { n }), empty }),
      C.bars({ id: "c-buckets", title: t("c_buckets"), labels: Object.keys(s.wait_buckets), values: Object.values(s.wait_buckets),
        xLabel: t("x_buckets"), yLabel: t("y_served"), kind: "wait", empty }),
      C.bars({ id: "c-ratings", title: t("c_ratings"), labels: levels, values: levels.map((l) => s.ratings.by_level[l]),
        xLabel: t("x_level"), yLabel: t("y_ratings"), kind: "rating", empty }),
      C.bars({ id: "c-level-category", title: t("c_level_cat"), labels: cats.map((r) => r.category),
        values: cats.map((r) => (r.service_level === null ? null : Math.round(r.service_level * 1000) / 10)),
        xLabel: t("category"), yLabel: t("y_level"), fmt: one, kind: "level", empty }));
  }

  // The deltas against the previous period (its summary as compare=previous
  // gives it), added once it arrives: the figures do not wait for it.
  function showPrevious(s, prev) {
    for (const [id, , get, kind, sense] of KPIS) $(id).append(delta(get(s), get(prev), kind, sense));
    $("previous").dataset.from = prev.from; $("previous").dataset.to = prev.to;
    $("previous").textContent = `${t("previous")}: ${prev.from} – ${prev.to}`;
  }

  function render(s) {
    const out = $("report"); out.textContent = "";
    const k = ([id, key, get, kind]) => MC.el("div", { class: "kpi", id }, t(key), MC.el("b", {}, show(get(s), kind)));
    out.append(MC.el("div", { class: "kpis" }, ...KPIS.map(k)));
    out.append(MC.el("p", { id: "previous", class: "muted" }));
    out.append(MC.el("h3", {}, t("charts")), charts(s));
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

  // The exports: XLSX and PDF always through the worker (seconds of work on
  // a long period, and the page stays live); CSV straight for a period of up
  // to 31 days, through the worker beyond.
  const LONG_DAYS = 31;
  function days() { return (Date.parse($("to").value) - Date.parse($("from").value)) / 86400000 + 1; }
  let exportRun = 0;
  async function runExport(fmt) {
    const run = ++exportRun, q = query(), box = $("export-status");
    const body = { format: fmt }; for (const [k, v] of q) body[k] = v;
    box.textContent = "";
    const bar = MC.el("progress", { id: "export-bar", max: "100", value: "0" });
    const label = MC.el("span", { id: "export-text" }, t("making", { p: 0 }));
    box.append(bar, " ", label); box.classList.remove("hidden");
    try {
      let st = await MC.api("POST", "/api/reports/exports", body);
      while (st.state !== "done" && st.state !== "failed") {
        bar.value = st.progress; label.textContent = t("making", { p: st.progress });
        await MC.sleep(400);
        if (run !== exportRun) return;
        st = await MC.api("GET", "/api/reports/exports/" + st.id);
      }
      if (st.state === "failed") throw new Error(t("failed"));
      bar.value = 100; label.textContent = t("made") + " ";
      label.append(MC.el("a", { id: "export-link", href: st.file, download: "" }, `${t("download")} ${fmt.toUpperCase()}`));
    } catch (e) { label.textContent = e.message || t("failed"); label.className = "err"; }
  }
  for (const fmt of ["csv", "xlsx", "pdf"]) {
    $("dl-" + fmt).addEventListener("click", (ev) => {
      if (fmt === "csv" && days() <= LONG_DAYS) return; // a plain download
      ev.preventDefault(); runExport(fmt);
    });
  }

  async function loadPeriodic() {
    const box = $("periodic-list"); box.textContent = "";
    try {
      const r = await MC.api("GET", "/api/reports/periodic");
      if (!r.reports.length) { box.append(MC.el("li", { class: "muted" }, t("no_periodic"))); return; }
      for (const p of r.reports) {
        box.append(MC.el("li", { "data-name": p.name }, MC.el("b", {}, MC.lang === "en" ? p.label_en : p.label), " ",
          ...p.files.map((f) => [MC.el("a", { href: f.url, download: "" }, f.format.toUpperCase()), " "])));
      }
    } catch (e) { box.append(MC.el("li", { class: "err" }, e.message)); }
  }

  let loadRun = 0;
  const shift = (day, n) => { const d = new Date(day + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return iso(d); };
  async function load() {
    const q = query();
    for (const fmt of ["csv", "xlsx", "pdf"]) $("dl-" + fmt).href = "/api/reports/export?" + q + "&format=" + fmt;
    $("msg").textContent = t("loading"); $("msg").className = "msg";
    const run = ++loadRun;
    // the previous period (as many days, ending the day before: the definition "previous" of
    // domain/reports.py, which compare=previous answers too), asked for at once beside the
    // period itself, so the figures show as soon as they come and the deltas join them
    const pq = new URLSearchParams(q), n = days();
    pq.set("from", shift($("from").value, -n)); pq.set("to", shift($("from").value, -1));
    const before = $("f-compare").checked && n > 0 ? MC.api("GET", "/api/reports/summary?" + pq).catch(() => null) : null;
    try {
      const s = await MC.api("GET", "/api/reports/summary?" + q);
      if (run !== loadRun) return; // a later period or filter was asked for meanwhile
      $("msg").textContent = ""; render(s);
      document.body.dataset.loaded = q.toString();
      const prev = before && (await before);
      if (prev && run === loadRun) showPrevious(s, prev);
    } catch (e) {
      if (run !== loadRun) return;
      $("msg").textContent = e.message; $("msg").className = "msg err"; $("report").textContent = "";
    }
  }

  async function enter() {
    try { S.tz = (await MC.api("GET", "/api/site")).timezone || S.tz; } catch (e) { /* keep the default */ }
    const cats = (await MC.api("GET", "/api/categories")).categories || [];
    for (const c of cats) $("f-category").append(MC.el("option", { value: c.code }, `${c.code} – ${c.name}`));
    setRange(); texts(); load(); loadPeriodic();
  }
  const staff = MC.staffPage({ roles: ["admin", "supervisor"], denied: () => t("not_allowed"), enter });
  $("btn-lang").addEventListener("click", () => { MC.setLang(MC.lang === "en" ? "vi" : "en"); texts(); load(); loadPeriodic(); });
  $("f-compare").addEventListener("change", load);
  $("btn-show").addEventListener("click", () => { S.period = "custom"; texts(); load(); });
  for (const id of ["f-category", "f-source"]) $(id).addEventListener("change", load);
  for (const id of ["f-counter", "f-clerk"]) $(id).addEventListener("change", load);

  MC.setLang(MC.lang); texts(); staff.boot();
})();
