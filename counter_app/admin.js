// Admin pages: site and hours, holidays, categories, work-profile matrix,
// users, devices, display notice and voice, printer status, audit log, backups.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const E = MC.el;
  const T = {
    vi: {
      title: "Quản trị hệ thống xếp hàng", counter_app: "Quầy", logout: "Đăng xuất", login: "Đăng nhập quản trị",
      login_btn: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu", not_admin: "Tài khoản này không có quyền quản trị.",
      t_general: "Đơn vị & giờ làm việc", t_categories: "Lĩnh vực", t_matrix: "Phân công quầy", t_users: "Người dùng",
      t_devices: "Thiết bị", t_display: "Bảng hiển thị & giọng đọc", t_printer: "Máy in", t_audit: "Nhật ký",
      save: "Lưu", saved: "Đã lưu. Thay đổi có hiệu lực ngay.", site_name: "Tên đơn vị", site_name_en: "Tên tiếng Anh",
      seats: "Số ghế chờ", footer: "Chân phiếu", public_url: "Địa chỉ công khai", sessions: "Phiên làm việc (HH:MM-HH:MM, cách nhau dấu phẩy)",
      mon: "Thứ Hai", tue: "Thứ Ba", wed: "Thứ Tư", thu: "Thứ Năm", fri: "Thứ Sáu", sat: "Thứ Bảy", sun: "Chủ Nhật",
      holidays: "Ngày nghỉ lễ", use_holidays: "Nghỉ các ngày lễ Việt Nam (thư viện holidays)", year: "Năm",
      closures: "Ngày nghỉ thêm / nghỉ bù (YYYY-MM-DD, mỗi dòng một ngày)", extra_open: "Ngày làm bù (làm việc dù là ngày nghỉ)",
      work_this_day: "Làm việc ngày này", holiday_name: "Tên ngày lễ", date: "Ngày", closed: "Nghỉ", open: "Làm việc",
      code: "Mã", prefix: "Tiền tố", name: "Tên", name_en: "Tên tiếng Anh", target_wait: "Chờ mục tiêu (phút)", service: "Phục vụ (phút)",
      enabled: "Bật", add_category: "Thêm lĩnh vực", counter: "Quầy", counter_name: "Tên quầy",
      matrix_help: "Ghi thứ tự ưu tiên (1, 2, 3…) của lĩnh vực mà quầy phục vụ; để trống nếu không phục vụ.",
      role: "Vai trò", counters: "Quầy được dùng", display_name: "Họ tên", status: "Trạng thái", disabled: "Đã khóa", active: "Hoạt động",
      create: "Tạo", reset_pw: "Đặt lại mật khẩu", disable: "Khóa", enable: "Mở khóa", new_password: "Mật khẩu mới (≥ 8 ký tự)",
      counters_ph: "VD: 1,2", kind: "Loại", revoke: "Thu hồi", revoked: "Đã thu hồi", created: "Tạo lúc",
      token_once: "Mã thiết bị (chỉ hiện một lần – hãy sao chép ngay):",
      t_pair: "Ghép nối màn hình", pair_help: "Mở /display trên TV: màn hình hiện một mã 6 chữ số. Nhập mã đó vào đây.",
      pair_code: "Mã trên màn hình", pair: "Ghép nối", paired: "Đã ghép nối màn hình “{name}”.", notice: "Dòng thông báo trên bảng",
      voice: "Giọng đọc", v_muted: "Tắt tiếng đọc số", v_volume: "Âm lượng (0–100)", v_reading: "Cách đọc số",
      v_template: "Câu mời (có {number} và {counter})", r_digits: "Đọc từng chữ số", r_natural: "Đọc cả số",
      display_none: "Chưa có API thiết lập bảng hiển thị (/api/display/settings).", no_espeak: "Máy chủ chưa có espeak-ng: bảng hiển thị chỉ phát chuông.",
      printer_none: "Chưa có dịch vụ trạng thái máy in (GET /api/printer/status).",
      refresh: "Tải lại", ts: "Thời điểm", actor: "Người thực hiện", action: "Thao tác", audit_target: "Đối tượng", detail: "Chi tiết",
      confirm_revoke: "Thu hồi thiết bị này? Thiết bị sẽ ngừng hoạt động ngay.", pw_done: "Đã đặt lại mật khẩu; các phiên cũ đã kết thúc.",
      appt_data: "Lịch hẹn trực tuyến – dữ liệu cá nhân", keep_days: "Xóa họ tên, số điện thoại sau (ngày kể từ giờ hẹn)",
      privacy_vi: "Thông báo xử lý dữ liệu cá nhân (trang /book/privacy)", privacy_en: "Thông báo bằng tiếng Anh",
      privacy_ph: "Để trống: dùng văn bản mặc định theo Nghị định 13/2023/NĐ-CP. Cách đoạn bằng một dòng trống.",
      queue_rules: "Quy tắc hàng chờ", rating_scale: "Thang đánh giá (3 hoặc 5 mức)", debounce: "Chống bấm đúp “Gọi tiếp” (ms)",
      factor: "Hệ số chống chờ quá lâu", priority_enabled: "Cấp số ưu tiên", priority_label: "Đối tượng ưu tiên",
      enforce: "Chỉ cấp số trong giờ làm việc",
      room: "Phòng chờ – phiếu hẹn quay lại", room_threshold: "Ngưỡng số người dự kiến trong phòng (0: bằng số ghế)",
      room_horizon: "Dự báo trong (phút)", room_margin: "Hẹn quay lại sớm hơn giờ gọi dự kiến (phút)",
      room_warn: "Báo trước khi đến lượt (số người)", room_back: "Câu hẹn quay lại (có {time})", room_back_en: "Câu hẹn quay lại, tiếng Anh",
      room_full: "Dòng trên bảng khi phòng đầy", room_full_en: "Dòng trên bảng, tiếng Anh", room_on: "Cấp phiếu hẹn quay lại khi phòng đầy",
      unlock: "Mở khóa đăng nhập", unlocked: "Đã mở khóa đăng nhập.",
      dev_state: "Tình trạng", last_seen: "Liên lạc lần cuối", st_online: "Đang hoạt động", st_offline: "Mất liên lạc",
      st_never: "Chưa liên lạc lần nào", st_revoked: "Đã thu hồi",
      p_state: "Trạng thái", p_paper: "Giấy", p_errors: "Lỗi", p_agent: "Tác tử in", p_seen: "Liên lạc lần cuối",
      p_pending: "Phiếu đang chờ in", p_agent_on: "Đã kết nối", p_agent_off: "Chưa kết nối",
      paper_online: "Đủ giấy", paper_paper_low: "Sắp hết giấy – hãy thay cuộn mới", paper_paper_out: "Hết giấy – hãy thay cuộn mới",
      paper_offline: "Không rõ (máy in chưa kết nối)", no_errors: "Không có",
    },
    en: {
      title: "Queue system administration", counter_app: "Counter", logout: "Log out", login: "Administrator login",
      login_btn: "Log in", username: "Username", password: "Password", not_admin: "This account is not an administrator.",
      t_general: "Site & hours", t_categories: "Categories", t_matrix: "Work profile", t_users: "Users",
      t_devices: "Devices", t_display: "Display & voice", t_printer: "Printer", t_audit: "Audit log",
      save: "Save", saved: "Saved. Changes apply immediately.", site_name: "Site name", site_name_en: "English name",
      seats: "Waiting seats", footer: "Ticket footer", public_url: "Public URL", sessions: "Sessions (HH:MM-HH:MM, comma separated)",
      mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday",
      holidays: "Public holidays", use_holidays: "Close on Vietnam's public holidays (holidays package)", year: "Year",
      closures: "Extra closures / substitute days off (YYYY-MM-DD, one per line)", extra_open: "Make-up working days (open although closed)",
      work_this_day: "Work this day", holiday_name: "Holiday", date: "Date", closed: "Closed", open: "Open",
      code: "Code", prefix: "Prefix", name: "Name", name_en: "English name", target_wait: "Target wait (min)", service: "Service (min)",
      enabled: "On", add_category: "Add category", counter: "Counter", counter_name: "Counter name",
      matrix_help: "Enter the priority order (1, 2, 3…) of each category a counter serves; leave blank if it does not.",
      role: "Role", counters: "Counters", display_name: "Full name", status: "Status", disabled: "Disabled", active: "Active",
      create: "Create", reset_pw: "Reset password", disable: "Disable", enable: "Enable", new_password: "New password (≥ 8 characters)",
      counters_ph: "e.g. 1,2", kind: "Kind", revoke: "Revoke", revoked: "Revoked", created: "Created",
      token_once: "Device token (shown once – copy it now):",
      t_pair: "Pair a display", pair_help: "Open /display on the TV: it shows a 6-digit code. Type that code here.",
      pair_code: "Code on the screen", pair: "Pair", paired: "Display “{name}” is paired.", notice: "Notice line on the board",
      voice: "Voice", v_muted: "Mute announcements", v_volume: "Volume (0–100)", v_reading: "Number reading",
      v_template: "Wording (with {number} and {counter})", r_digits: "Digit by digit", r_natural: "Whole number",
      display_none: "The display settings API (/api/display/settings) is not available yet.", no_espeak: "espeak-ng is missing on the server: boards play a chime only.",
      printer_none: "No printer status service yet (GET /api/printer/status).",
      refresh: "Refresh", ts: "Time", actor: "Actor", action: "Action", audit_target: "Target", detail: "Detail",
      confirm_revoke: "Revoke this device? It stops working at once.", pw_done: "Password reset; old sessions ended.",
      appt_data: "Online appointments – personal data", keep_days: "Delete name and phone after (days after the slot)",
      privacy_vi: "Notice on personal data, Vietnamese (/book/privacy)", privacy_en: "Notice in English",
      privacy_ph: "Empty: the built-in text citing Decree 13/2023/ND-CP. Separate paragraphs with a blank line.",
      queue_rules: "Queue rules", rating_scale: "Rating scale (3 or 5 levels)", debounce: "“Next” double-press guard (ms)",
      factor: "Long-wait factor", priority_enabled: "Priority tickets", priority_label: "Who gets priority",
      enforce: "Issue tickets only during office hours",
      room: "Waiting room – come-back tickets", room_threshold: "Predicted people in the room above which (0: the seats)",
      room_horizon: "Prediction over (minutes)", room_margin: "Come back this long before the predicted call (minutes)",
      room_warn: "Warn this many people before the turn", room_back: "Come-back line (with {time})", room_back_en: "Come-back line, English",
      room_full: "Board line when full", room_full_en: "Board line, English", room_on: "Give come-back tickets when the room is full",
      unlock: "Lift login lockout", unlocked: "Login lockout lifted.",
      dev_state: "State", last_seen: "Last contact", st_online: "Online", st_offline: "Not in contact",
      st_never: "Never connected", st_revoked: "Revoked",
      p_state: "State", p_paper: "Paper", p_errors: "Errors", p_agent: "Print agent", p_seen: "Last contact",
      p_pending: "Tickets waiting to print", p_agent_on: "Connected", p_agent_off: "Not connected",
      paper_online: "Paper OK", paper_paper_low: "Paper low – load a new roll", paper_paper_out: "Out of paper – load a new roll",
      paper_offline: "Unknown (printer not connected)", no_errors: "None",
    },
  };
  // the backup tab (issue 14): the last backup's result
  Object.assign(T.vi, { t_backup: "Sao lưu", b_last: "Lần sao lưu cuối", b_file: "Tệp", b_size: "Dung lượng",
    b_result: "Kết quả", b_error: "Lỗi", b_ok: "Thành công", b_failed: "Thất bại", b_none: "Chưa có bản sao lưu nào.",
    b_keep: "Giữ lại (ngày)", b_dir: "Thư mục", b_help: "Sao lưu tự động mỗi ngày; sao lưu ngay bằng lệnh `motcua backup`, khôi phục bằng `motcua restore TỆP`." });
  Object.assign(T.en, { t_backup: "Backups", b_last: "Last backup", b_file: "File", b_size: "Size",
    b_result: "Result", b_error: "Error", b_ok: "Succeeded", b_failed: "Failed", b_none: "No backup yet.",
    b_keep: "Kept (days)", b_dir: "Folder", b_help: "A backup is made every day; `motcua backup` makes one now, `motcua restore FILE` restores one." });
  const t = (k, v) => MC.t(T, k, v);
  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const TABS = ["general", "categories", "matrix", "users", "devices", "display", "printer", "audit", "backup"];
  const S = { tab: localStorage.getItem("motcua.admin.tab") || "general", cfg: null, user: null };

  function say(text, kind = "ok", problems) {
    const m = $("msg"); m.textContent = text; m.className = text ? "msg " + kind : "msg";
    if (problems && problems.length) {
      m.append(E("ul", { class: "problems" }, problems.map((p) => E("li", { "data-field": p.field }, `${p.field}: ${MC.lang === "en" ? p.en : p.vi}`))));
    }
  }
  function fail(e) { say(e.message, "err", e.body && e.body.details && e.body.details.problems); }
  async function saveConfig(part) {
    try { const r = await MC.api("PUT", "/api/admin/config", part); S.cfg = r.config; say(t("saved")); return true; }
    catch (e) { fail(e); return false; }
  }
  // a labelled form row; the label names its input (for= its id) for screen readers and clicks
  const row = (labelKey, input) => {
    if (!input.id) input.id = "f-" + labelKey.replace(/[^a-z0-9_-]/gi, "-");
    return E("div", { class: "form-row" }, E("label", { for: input.id }, t(labelKey)), input);
  };
  // the categories table's columns: input name -> label key
  const CAT_COLS = [["code", "code"], ["prefix", "prefix"], ["name", "name"], ["name_en", "name_en"],
    ["target_wait_min", "target_wait"], ["service_min", "service"], ["enabled", "enabled"]];
  const lines = (s) => s.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);

  // -- boot -----------------------------------------------------------------------------
  const staff = MC.staffPage({
    roles: ["admin"],
    denied: () => t("not_admin"),
    async enter(user) {
      S.user = user;
      S.cfg = (await MC.api("GET", "/api/admin/config")).config;
      open(S.tab);
    },
  });
  function boot() { MC.setLang(MC.lang); texts(); return staff.boot(); }
  function texts() { MC.applyI18n(T); $("btn-lang").textContent = MC.lang === "en" ? "Tiếng Việt" : "English"; }
  $("btn-lang").addEventListener("click", () => { MC.setLang(MC.lang === "en" ? "vi" : "en"); texts(); if (S.user) open(S.tab); });

  function open(tab) {
    S.tab = TABS.includes(tab) ? tab : "general"; localStorage.setItem("motcua.admin.tab", S.tab);
    const nav = $("tabs"); nav.textContent = "";
    for (const k of TABS) nav.append(E("button", { class: k === S.tab ? "on" : "", "data-tab": k, onclick: () => { say(""); open(k); } }, t("t_" + k)));
    const panel = $("panel"); panel.textContent = "";
    ({ general, categories, matrix, users, devices, display, printer, audit, backup })[S.tab](panel);
  }

  // -- site, hours, holidays ---------------------------------------------------------------
  function general(panel) {
    const c = S.cfg, s = c.site, h = c.hours;
    const f = {
      name: E("input", { id: "site-name", value: s.name }), name_en: E("input", { id: "site-name-en", value: s.name_en }),
      seats: E("input", { id: "site-seats", type: "number", value: s.seats }), footer: E("input", { id: "site-footer", value: s.ticket_footer }),
      url: E("input", { id: "site-url", value: s.public_url }),
    };
    const days = {}; for (const d of DAYS) days[d] = E("input", { id: "hours-" + d, value: (h[d] || []).join(", ") });
    const useHol = E("input", { type: "checkbox", id: "hours-holidays", checked: h.public_holidays });
    const closures = E("textarea", { id: "hours-closures", rows: 4, cols: 24 }); closures.value = h.closures.join("\n");
    const extra = E("textarea", { id: "hours-extra", rows: 4, cols: 24 }); extra.value = h.extra_open_days.join("\n");
    const q = c.queue;
    const qf = {
      scale: E("select", { id: "queue-scale" }, [3, 5].map((x) => E("option", { value: x, selected: q.rating_scale === x }, String(x)))),
      debounce: E("input", { id: "queue-debounce", type: "number", value: q.next_debounce_ms }),
      factor: E("input", { id: "queue-factor", type: "number", step: "0.1", value: q.starvation_factor }),
      priority: E("input", { id: "queue-priority", type: "checkbox", checked: q.priority_enabled }),
      label: E("input", { id: "queue-priority-label", value: q.priority_label }),
      enforce: E("input", { id: "hours-enforce", type: "checkbox", checked: h.enforce }),
    };
    const numOr = (x) => (x.value === "" || isNaN(Number(x.value)) ? x.value : Number(x.value));
    const a = c.appointments || {};
    const af = {
      keep: E("input", { id: "appt-keep-days", type: "number", value: a.keep_personal_days }),
      vi: E("textarea", { id: "appt-privacy", rows: 8, style: "width:100%", placeholder: t("privacy_ph") }),
      en: E("textarea", { id: "appt-privacy-en", rows: 5, style: "width:100%", placeholder: t("privacy_ph") }),
    };
    af.vi.value = a.privacy_text || ""; af.en.value = a.privacy_text_en || "";
    const rm = c.room || {};
    const rf = {
      on: E("input", { id: "room-enabled", type: "checkbox", checked: rm.enabled !== false }),
      threshold: E("input", { id: "room-threshold", type: "number", value: rm.threshold }),
      horizon: E("input", { id: "room-horizon", type: "number", value: rm.horizon_minutes }),
      margin: E("input", { id: "room-margin", type: "number", value: rm.margin_minutes }),
      warn: E("input", { id: "room-warn", type: "number", value: rm.warn_ahead }),
      back: E("input", { id: "room-back", value: rm.come_back_text || "", size: 50 }),
      back_en: E("input", { id: "room-back-en", value: rm.come_back_text_en || "", size: 50 }),
      full: E("input", { id: "room-full", value: rm.full_text || "", size: 50 }),
      full_en: E("input", { id: "room-full-en", value: rm.full_text_en || "", size: 50 }),
    };
    const save = E("button", { class: "act primary", id: "save-general", onclick: async () => {
      const hours = { public_holidays: useHol.checked, closures: lines(closures.value), extra_open_days: lines(extra.value),
        enforce: qf.enforce.checked };
      for (const d of DAYS) hours[d] = lines(days[d].value.replace(/,/g, " "));
      const seats = Number(f.seats.value);
      if (await saveConfig({ site: { name: f.name.value, name_en: f.name_en.value, seats: Number.isInteger(seats) ? seats : f.seats.value,
        ticket_footer: f.footer.value, public_url: f.url.value }, hours,
        queue: { rating_scale: Number(qf.scale.value), next_debounce_ms: numOr(qf.debounce), starvation_factor: numOr(qf.factor),
          priority_enabled: qf.priority.checked, priority_label: qf.label.value },
        appointments: { keep_personal_days: numOr(af.keep), privacy_text: af.vi.value, privacy_text_en: af.en.value },
        room: { enabled: rf.on.checked, threshold: numOr(rf.threshold), horizon_minutes: numOr(rf.horizon), margin_minutes: numOr(rf.margin),
          warn_ahead: numOr(rf.warn), come_back_text: rf.back.value, come_back_text_en: rf.back_en.value,
          full_text: rf.full.value, full_text_en: rf.full_en.value } })) open("general");
    } }, t("save"));
    const year = E("input", { type: "number", id: "hol-year", value: MC.siteYear(S.cfg.site.timezone), style: "width:6em", "aria-label": t("year") });
    const holBody = E("tbody");
    async function loadHolidays() {
      holBody.textContent = "";
      try {
        const r = await MC.api("GET", `/api/admin/holidays?year=${Number(year.value)}`);
        for (const d of r.holidays) {
          const cb = E("input", { type: "checkbox", "data-date": d.date, checked: h.extra_open_days.includes(d.date), onchange: () => {
            const set = new Set(lines(extra.value)); if (cb.checked) set.add(d.date); else set.delete(d.date);
            extra.value = [...set].sort().join("\n");
          } });
          holBody.append(E("tr", {}, E("td", {}, d.date), E("td", {}, d.name), E("td", {}, d.closed ? t("closed") : t("open")), E("td", {}, cb)));
        }
      } catch (e) { fail(e); }
    }
    year.addEventListener("change", loadHolidays);
    panel.append(
      E("div", { class: "card" }, E("h2", {}, t("t_general")),
        row("site_name", f.name), row("site_name_en", f.name_en), row("seats", f.seats), row("footer", f.footer), row("public_url", f.url),
        E("h2", {}, t("sessions")), DAYS.map((d) => row(d, days[d])), row("enforce", qf.enforce)),
      E("div", { class: "card" }, E("h2", {}, t("queue_rules")), row("rating_scale", qf.scale), row("debounce", qf.debounce),
        row("factor", qf.factor), row("priority_enabled", qf.priority), row("priority_label", qf.label)),
      E("div", { class: "card" }, E("h2", {}, t("room")), row("room_on", rf.on), row("room_threshold", rf.threshold),
        row("room_horizon", rf.horizon), row("room_margin", rf.margin), row("room_warn", rf.warn), row("room_back", rf.back),
        row("room_back_en", rf.back_en), row("room_full", rf.full), row("room_full_en", rf.full_en)),
      E("div", { class: "card" }, E("h2", {}, t("appt_data")), row("keep_days", af.keep),
        E("p", {}, E("label", { for: "appt-privacy" }, t("privacy_vi"))), af.vi,
        E("p", {}, E("label", { for: "appt-privacy-en" }, t("privacy_en"))), af.en),
      E("div", { class: "card" }, E("h2", {}, t("holidays")),
        E("p", {}, E("label", {}, useHol, " ", t("use_holidays"))),
        E("p", {}, t("year"), " ", year),
        E("table", { id: "holidays" }, E("thead", {}, E("tr", {}, E("th", {}, t("date")), E("th", {}, t("holiday_name")), E("th", {}, t("status")), E("th", {}, t("work_this_day")))), holBody),
        E("div", { class: "grid2" }, E("div", {}, E("p", {}, E("label", { for: "hours-closures" }, t("closures"))), closures),
          E("div", {}, E("p", {}, E("label", { for: "hours-extra" }, t("extra_open"))), extra))),
      save);
    loadHolidays();
  }

  // -- categories ---------------------------------------------------------------------------------
  function categories(panel) {
    const body = E("tbody");
    const addRow = (c) => {
      const tr = E("tr", { "data-code": c.code },
        E("td", {}, E("input", { name: "code", value: c.code, size: 5 })), E("td", {}, E("input", { name: "prefix", value: c.prefix, size: 2 })),
        E("td", {}, E("input", { name: "name", value: c.name })), E("td", {}, E("input", { name: "name_en", value: c.name_en })),
        E("td", {}, E("input", { name: "target_wait_min", type: "number", step: "any", value: c.target_wait_min })),
        E("td", {}, E("input", { name: "service_min", type: "number", step: "any", value: c.service_min })),
        E("td", {}, E("input", { name: "enabled", type: "checkbox", checked: c.enabled })));
      const named = () => {                      // each input named by its column and the category's code
        const code = tr.querySelector("[name=code]").value.trim().toUpperCase() || "+";
        for (const [n, k] of CAT_COLS) tr.querySelector(`[name=${n}]`).setAttribute("aria-label", `${t(k)} – ${code}`);
      };
      tr.querySelector("[name=code]").addEventListener("input", named); named();
      tr.procedures = c.procedures || [];        // not edited here (TOML or the config API): kept as they are
      body.append(tr);
    };
    S.cfg.categories.forEach(addRow);
    const num = (v) => (v === "" || isNaN(Number(v)) ? v : Number(v));
    panel.append(E("div", { class: "card" }, E("h2", {}, t("t_categories")),
      E("table", { id: "categories" }, E("thead", {}, E("tr", {}, CAT_COLS.map(([, k]) => E("th", {}, t(k))))), body),
      E("p", {}, E("button", { class: "act", onclick: () => addRow({ code: "", prefix: "", name: "", name_en: "", target_wait_min: 20, service_min: 10, enabled: true }) }, t("add_category")),
        " ", E("button", { class: "act primary", id: "save-categories", onclick: async () => {
          const cats = [...body.querySelectorAll("tr")].map((tr) => {
            const g = (n) => tr.querySelector(`[name=${n}]`);
            // fields this table does not show (appointment_capacity, last_slot) stay as they were
            const kept = S.cfg.categories.find((c) => c.code === tr.dataset.code) || {};
            return { ...kept, code: g("code").value.trim().toUpperCase(), prefix: g("prefix").value.trim().toUpperCase(), name: g("name").value,
              name_en: g("name_en").value, target_wait_min: num(g("target_wait_min").value), service_min: num(g("service_min").value), enabled: g("enabled").checked };
          });
          if (await saveConfig({ categories: cats })) open("categories");
        } }, t("save")))));
  }

  // -- work-profile matrix -----------------------------------------------------------------------------
  function matrix(panel) {
    const cats = S.cfg.categories;
    const body = E("tbody");
    for (const ct of S.cfg.counters) {
      body.append(E("tr", { "data-counter": ct.number },
        E("th", {}, String(ct.number)),
        E("td", {}, E("input", { name: "name", value: ct.name, size: 10, style: "width:8em" })),
        E("td", {}, E("input", { type: "checkbox", name: "enabled", checked: ct.enabled })),
        cats.map((c) => { const i = ct.categories.indexOf(c.code);
          return E("td", {}, E("input", { type: "number", min: 1, max: cats.length, "data-category": c.code, "aria-label": `${t("counter")} ${ct.number} – ${c.code}`,
            value: i >= 0 ? i + 1 : "" })); })));
    }
    panel.append(E("div", { class: "card" }, E("h2", {}, t("t_matrix")), E("p", { class: "muted" }, t("matrix_help")),
      E("table", { id: "matrix" }, E("thead", {}, E("tr", {}, E("th", {}, t("counter")), E("th", {}, t("counter_name")), E("th", {}, t("enabled")),
        cats.map((c) => E("th", { title: c.name }, `${c.code} (${c.prefix})`)))), body),
      E("p", {}, E("button", { class: "act primary", id: "save-matrix", onclick: async () => {
        const counters = [...body.querySelectorAll("tr")].map((tr) => {
          const picks = [...tr.querySelectorAll("input[data-category]")].filter((i) => i.value.trim() !== "")
            .map((i) => [Number(i.value), i.dataset.category]).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
          return { number: Number(tr.dataset.counter), name: tr.querySelector("[name=name]").value, enabled: tr.querySelector("[name=enabled]").checked, categories: picks };
        });
        if (await saveConfig({ counters })) open("matrix");
      } }, t("save")))));
  }

  // -- users --------------------------------------------------------------------------------------------
  async function users(panel) {
    const body = E("tbody");
    const list = (await MC.api("GET", "/api/admin/users")).users;
    const parseCounters = (s) => lines(s).map(Number).filter((x) => !isNaN(x));
    for (const u of list) {
      const counters = E("input", { value: u.counters.join(","), size: 8, "data-user-counters": u.username, "aria-label": `${t("counters")} – ${u.username}` });
      const role = E("select", { "aria-label": `${t("role")} – ${u.username}` }, ["clerk", "supervisor", "admin"].map((r) => E("option", { value: r, selected: r === u.role }, r)));
      body.append(E("tr", { "data-user": u.username }, E("td", {}, u.username), E("td", {}, u.display_name), E("td", {}, role), E("td", {}, counters),
        E("td", {}, u.disabled ? t("disabled") : t("active")),
        E("td", {},
          E("button", { class: "act", onclick: async () => { try { await MC.api("PUT", `/api/admin/users/${u.username}`, { role: role.value, counters: parseCounters(counters.value) }); say(t("saved")); } catch (e) { fail(e); } } }, t("save")), " ",
          E("button", { class: "act", "data-reset": u.username, onclick: async () => {
            const pw = prompt(t("new_password")); if (!pw) return;
            try { await MC.api("POST", `/api/admin/users/${u.username}/password`, { password: pw }); say(t("pw_done")); } catch (e) { fail(e); } } }, t("reset_pw")), " ",
          E("button", { class: "act", "data-unlock": u.username, onclick: async () => {
            try { await MC.api("POST", `/api/admin/users/${u.username}/unlock`); say(t("unlocked")); } catch (e) { fail(e); } } }, t("unlock")), " ",
          E("button", { class: "act danger", onclick: async () => {
            try { await MC.api("POST", `/api/admin/users/${u.username}/${u.disabled ? "enable" : "disable"}`); open("users"); } catch (e) { fail(e); } } }, u.disabled ? t("enable") : t("disable")))));
    }
    const nf = { username: E("input", { id: "new-username", size: 10, "aria-label": t("username") }),
      display_name: E("input", { id: "new-display", size: 14, "aria-label": t("display_name") }),
      role: E("select", { id: "new-role", "aria-label": t("role") }, ["clerk", "supervisor", "admin"].map((r) => E("option", { value: r }, r))),
      counters: E("input", { id: "new-counters", placeholder: t("counters_ph"), size: 8, "aria-label": t("counters") }),
      password: E("input", { id: "new-password", type: "password", size: 12, "aria-label": t("password") }) };
    body.append(E("tr", {}, E("td", {}, nf.username), E("td", {}, nf.display_name), E("td", {}, nf.role), E("td", {}, nf.counters), E("td", {}, nf.password),
      E("td", {}, E("button", { class: "act primary", id: "create-user", onclick: async () => {
        try { await MC.api("POST", "/api/admin/users", { username: nf.username.value, display_name: nf.display_name.value, role: nf.role.value,
          counters: parseCounters(nf.counters.value), password: nf.password.value }); open("users"); say(t("saved")); } catch (e) { fail(e); } } }, t("create")))));
    panel.append(E("div", { class: "card" }, E("h2", {}, t("t_users")), E("table", { id: "users" }, E("thead", {}, E("tr", {},
      ["username", "display_name", "role", "counters", "status", ""].map((k) => E("th", {}, k ? t(k) : "")))), body)));
  }

  // -- devices ----------------------------------------------------------------------------------------------
  async function devices(panel) {
    const body = E("tbody");
    const list = (await MC.api("GET", "/api/admin/devices")).devices;
    let printerText = "";                     // the printer's own words (paper, errors) beside printer devices
    if (list.some((d) => d.kind === "printer" && !d.revoked)) {
      try { const p = await MC.api("GET", "/api/printer/status"); printerText = p.message + (p.detail ? ` – ${p.detail}` : ""); }
      catch (e) { printerText = ""; }
    }
    for (const d of list) {
      const state = d.state || (d.revoked ? "revoked" : "never");
      body.append(E("tr", { "data-device": d.id, "data-state": state }, E("td", {}, d.name), E("td", {}, d.kind), E("td", {}, d.counter ?? ""),
        E("td", {}, MC.dateTime(d.created_at, S.cfg.site.timezone)),
        E("td", { class: "state" }, E("span", { class: "pill " + ({ online: "open", offline: "paused", revoked: "closed" }[state] || "") }, t("st_" + state))),
        E("td", { class: "seen" }, d.last_seen_at ? MC.dateTime(d.last_seen_at, S.cfg.site.timezone) : "—",
          d.kind === "printer" && printerText && !d.revoked ? E("div", { class: "muted printer-words" }, printerText) : null),
        E("td", {}, d.revoked ? t("revoked") : E("button", { class: "act danger", onclick: async () => {
          if (!confirm(t("confirm_revoke"))) return;
          try { await MC.api("POST", `/api/admin/devices/${d.id}/revoke`); open("devices"); } catch (e) { fail(e); } } }, t("revoke")))));
    }
    const nf = { name: E("input", { id: "dev-name", size: 14, "aria-label": t("name") }),
      kind: E("select", { id: "dev-kind", "aria-label": t("kind") }, ["kiosk", "display", "printer", "rating"].map((k) => E("option", { value: k }, k))),
      counter: E("input", { id: "dev-counter", type: "number", size: 3, style: "width:5em", "aria-label": t("counter") }) };
    const tokenBox = E("div", { id: "token-box" });
    body.append(E("tr", {}, E("td", {}, nf.name), E("td", {}, nf.kind), E("td", {}, nf.counter), E("td", {}), E("td", {}), E("td", {}),
      E("td", {}, E("button", { class: "act primary", id: "create-device", onclick: async () => {
        try {
          const r = await MC.api("POST", "/api/admin/devices", { name: nf.name.value, kind: nf.kind.value, counter: nf.counter.value ? Number(nf.counter.value) : null });
          await devices_refresh(panel); $("token-box").append(E("p", {}, t("token_once")), E("div", { class: "token", id: "new-token" }, r.token));
        } catch (e) { fail(e); } } }, t("create")))));
    const pf = { code: E("input", { id: "pair-code", inputmode: "numeric", autocomplete: "off", size: 8, "aria-label": t("pair_code") }),
      name: E("input", { id: "pair-name", size: 14, "aria-label": t("name") }) };
    panel.append(E("div", { class: "card" }, E("h2", {}, t("t_pair")), E("p", { class: "muted" }, t("pair_help")),
      E("label", {}, t("pair_code"), " ", pf.code), " ", E("label", {}, t("name"), " ", pf.name), " ",
      E("button", { class: "act primary", id: "pair-display", onclick: async () => {
        try {
          const r = await MC.api("POST", "/api/admin/display-pairing", { code: pf.code.value, name: pf.name.value || null });
          await devices_refresh(panel); say(t("paired").replace("{name}", r.device.name));
        } catch (e) { fail(e); } } }, t("pair"))));
    panel.append(E("div", { class: "card" }, E("h2", {}, t("t_devices")), tokenBox,
      E("table", { id: "devices" }, E("thead", {}, E("tr", {}, ["name", "kind", "counter", "created", "dev_state", "last_seen", ""].map((k) => E("th", {}, k ? t(k) : "")))), body)));
  }
  async function devices_refresh(panel) { panel.textContent = ""; await devices(panel); }

  // -- display notice and voice (the display module's API) ----------------------------------------------
  async function display(panel) {
    const box = E("div", { class: "card" }, E("h2", {}, t("t_display")));
    panel.append(box);
    let cur;
    try { cur = await MC.api("GET", "/api/display/settings"); }
    catch (e) { box.append(E("p", { class: "muted", id: "display-missing" }, e.status === 404 ? t("display_none") : e.message)); return; }
    const v = cur.voice || {};
    const notice = E("input", { id: "notice", value: cur.notice || "", style: "width:100%" });
    const f = { muted: E("input", { type: "checkbox", id: "v-muted", checked: !!v.muted }),
      volume: E("input", { id: "v-volume", type: "number", min: 0, max: 100, value: v.volume ?? 100 }),
      reading: E("select", { id: "v-reading" }, ["digits", "natural"].map((x) => E("option", { value: x, selected: (v.reading || "digits") === x }, t("r_" + x)))),
      template: E("input", { id: "v-template", value: v.template || "", style: "width:100%" }) };
    box.append(row("notice", notice), E("h2", {}, t("voice")),
      row("v_muted", f.muted), row("v_volume", f.volume), row("v_reading", f.reading), row("v_template", f.template),
      cur.offline_voice === false ? E("p", { class: "muted" }, t("no_espeak")) : "",   // DOM append would print "null"
      E("p", {}, E("button", { class: "act primary", id: "save-display", onclick: async () => {
        const vol = f.volume.value === "" || isNaN(Number(f.volume.value)) ? f.volume.value : Number(f.volume.value);
        try { await MC.api("PUT", "/api/display/settings", { notice: notice.value, voice: { muted: f.muted.checked, volume: vol,
          reading: f.reading.value, template: f.template.value } }); say(t("saved")); } catch (e) { fail(e); } } }, t("save"))));
  }

  // -- printer status (served by the printing module when present) ------------------------------------------------
  async function printer(panel) {
    const box = E("div", { class: "card", id: "printer" }, E("h2", {}, t("t_printer")));
    panel.append(box);
    try {
      const r = await MC.api("GET", "/api/printer/status");
      const tz = S.cfg.site.timezone, paper = T.vi["paper_" + r.status] ? t("paper_" + r.status) : r.message;
      const item = (k, v, cls) => [E("dt", {}, t(k)), E("dd", { class: cls || "" }, v)];
      const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);
      box.append(E("dl", { id: "printer-status", class: "facts", "data-status": r.status },
        item("p_state", E("span", { class: "pill " + (r.ok ? "open" : r.status === "offline" ? "closed" : "paused") }, r.message)),
        item("p_paper", paper),
        item("p_errors", r.ok ? (cap(r.detail) || t("no_errors")) : (cap(r.detail) || r.message), r.ok ? "" : "err"),
        item("p_agent", t(r.agent_connected ? "p_agent_on" : "p_agent_off")),
        item("p_seen", r.seen_at ? MC.dateTime(r.seen_at, tz) : "—"),
        item("p_pending", String(r.pending_jobs ?? 0))));
    } catch (e) {
      box.append(E("p", { class: "muted", id: "printer-status" }, e.status === 404 ? t("printer_none") : e.message));
    }
    box.append(E("button", { class: "act", onclick: () => open("printer") }, t("refresh")));
  }

  // -- audit log --------------------------------------------------------------------------------------------------
  async function audit(panel) {
    const r = await MC.api("GET", "/api/admin/audit?count=300");
    panel.append(E("div", { class: "card" }, E("h2", {}, t("t_audit")), E("button", { class: "act", onclick: () => open("audit") }, t("refresh")),
      E("table", { id: "audit" }, E("thead", {}, E("tr", {}, ["ts", "actor", "action", "audit_target", "detail"].map((k) => E("th", {}, t(k))))),
        E("tbody", {}, r.entries.map((e) => E("tr", {}, E("td", {}, MC.dateTime(e.ts, S.cfg.site.timezone)),
          E("td", {}, e.actor), E("td", {}, e.action), E("td", {}, e.target), E("td", {}, JSON.stringify(e.detail))))))));
  }

  // -- backups: the last result of `motcua backup` or the daily job ----------------------------------------------
  async function backup(panel) {
    const box = E("div", { class: "card", id: "backup" }, E("h2", {}, t("t_backup")));
    panel.append(box);
    try {
      const r = await MC.api("GET", "/api/admin/backup");
      const item = (k, v, cls) => [E("dt", {}, t(k)), E("dd", { class: cls || "" }, v)];
      const b = r.last;
      box.append(E("dl", { id: "backup-status", class: "facts", "data-ok": b ? String(b.ok) : "none" },
        item("b_last", b ? MC.dateTime(b.at, S.cfg.site.timezone) : t("b_none")),
        b ? item("b_result", E("span", { class: "pill " + (b.ok ? "open" : "closed") }, t(b.ok ? "b_ok" : "b_failed"))) : [],
        b && b.ok ? item("b_file", b.file) : [],
        b && b.ok ? item("b_size", `${(b.size / 1e6).toFixed(1)} MB`) : [],
        b && !b.ok ? item("b_error", b.error, "err") : [],
        item("b_keep", String(r.keep_days)),
        item("b_dir", r.dir)));
    } catch (e) {
      box.append(E("p", { class: "muted", id: "backup-status" }, e.message));
    }
    box.append(E("p", { class: "muted" }, t("b_help")));
    box.append(E("button", { class: "act", onclick: () => open("backup") }, t("refresh")));
  }

  boot();
})();
