// The clerk's counter app: login, pick a counter, serve citizens with the
// keyboard (or a USB numeric keypad), live over /ws/counters/{n}.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const T = {
    vi: {
      title: "Quầy giao dịch", login: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu", logout: "Đăng xuất",
      pick_counter: "Chọn quầy làm việc", change_counter: "Đổi quầy", shortcuts: "Phím tắt", current: "Đang phục vụ",
      no_ticket: "Chưa gọi số nào. Bấm “Gọi tiếp” (Space).", category: "Lĩnh vực", source: "Nguồn", waited: "Đã chờ",
      serving_for: "Thời gian phục vụ", calls: "Số lần gọi", today: "Hôm nay tại quầy", served: "Đã phục vụ",
      avg_service: "TB phục vụ", no_shows: "Vắng mặt", call_number: "Gọi số cụ thể", number_ph: "VD: A012", call: "Gọi",
      preview: "Hàng chờ của quầy", waiting: "Đang chờ", oldest_wait: "Chờ lâu nhất", transfer_title: "Chuyển hồ sơ",
      transfer_cat: "Sang lĩnh vực:", transfer_counter: "Hoặc sang quầy:", cancel: "Hủy (Esc)",
      shortcut_help: "Bấm “Đổi” rồi nhấn phím mới (kể cả phím số bàn phím phụ). Lưu trên máy này.",
      defaults: "Mặc định", close: "Đóng", change: "Đổi", press_key: "Nhấn một phím…",
      a_next: "Gọi tiếp", a_recall: "Gọi lại", a_noshow: "Vắng mặt", a_transfer: "Chuyển", a_done: "Xong",
      a_pause: "Tạm dừng", a_resume: "Tiếp tục", a_call: "Gọi số…", a_reprint: "In lại phiếu",
      slot_at: "Hẹn {t}", slot_title: "Lịch hẹn lúc {t}: phục vụ theo giờ hẹn",
      src_walk_in: "Trực tiếp", src_appointment: "Đặt lịch hẹn", src_transfer: "Được chuyển đến",
      st_open: "Đang mở", st_paused: "Tạm dừng", st_closed: "Đóng",
      online: "Trực tuyến", offline: "Mất kết nối – đang kết nối lại…",
      called: "Đã gọi số {n}.", recalled: "Đã gọi lại số {n}.", done_msg: "Đã xong số {n}.", noshow_msg: "Số {n} vắng mặt.",
      transferred: "Đã chuyển số {n}.", paused: "Quầy tạm dừng.", resumed: "Quầy tiếp tục làm việc.",
      reprinted: "Đã gửi lệnh in lại số {n}.", reprint_missing: "Chưa có chức năng in lại trên máy chủ (404).",
      no_counters: "Bạn chưa được phân công quầy nào. Liên hệ quản trị viên.", direct: "Chuyển thẳng đến quầy",
      counter_n: "Quầy {n}", total: "{n} người", need_ticket: "Chưa có số nào đang phục vụ.", logged_out: "Đã đăng xuất.",
      priority: "ưu tiên",
      waiting_list: "Danh sách chờ", noshow_list: "Vắng mặt hôm nay", number: "Số", noshow_at: "Lúc",
      nobody_waiting: "Không có ai đang chờ.", no_noshows: "Chưa có ai vắng mặt hôm nay.",
      requeue: "Xếp lại hàng", call_now: "Gọi", requeued: "Đã xếp lại hàng số {n}.",
      more: "… và {n} người nữa",
      is_noshow: "Số {n} đã được đánh dấu vắng mặt nên không còn trong hàng chờ. Bấm “Xếp lại hàng” để đưa số này về hàng chờ (giữ thứ tự cũ) hoặc “Gọi” để gọi ngay.",
      not_waiting: "Số {n} không còn trong hàng chờ ({status}).",
      status_called: "đang được phục vụ", status_done: "đã xong", status_expired: "đã hết hạn",
    },
    en: {
      title: "Service counter", login: "Log in", username: "Username", password: "Password", logout: "Log out",
      pick_counter: "Choose your counter", change_counter: "Change counter", shortcuts: "Shortcuts", current: "Now serving",
      no_ticket: "No ticket called yet. Press “Next” (Space).", category: "Category", source: "Source", waited: "Waited",
      serving_for: "Service time", calls: "Times called", today: "Today at this counter", served: "Served",
      avg_service: "Avg. service", no_shows: "No-shows", call_number: "Call a specific number", number_ph: "e.g. A012", call: "Call",
      preview: "This counter's queue", waiting: "Waiting", oldest_wait: "Longest wait", transfer_title: "Transfer",
      transfer_cat: "To category:", transfer_counter: "Or to counter:", cancel: "Cancel (Esc)",
      shortcut_help: "Click “Change”, then press the new key (numeric keypad keys work). Saved on this computer.",
      defaults: "Defaults", close: "Close", change: "Change", press_key: "Press a key…",
      a_next: "Next", a_recall: "Recall", a_noshow: "No-show", a_transfer: "Transfer", a_done: "Done",
      a_pause: "Pause", a_resume: "Resume", a_call: "Call number…", a_reprint: "Reprint",
      slot_at: "Booked {t}", slot_title: "Appointment at {t}: served at its time",
      src_walk_in: "Walk-in", src_appointment: "Appointment", src_transfer: "Transferred",
      st_open: "Open", st_paused: "Paused", st_closed: "Closed",
      online: "Online", offline: "Disconnected – reconnecting…",
      called: "Called {n}.", recalled: "Called {n} again.", done_msg: "{n} done.", noshow_msg: "{n} marked as no-show.",
      transferred: "{n} transferred.", paused: "Counter paused.", resumed: "Counter resumed.",
      reprinted: "Reprint of {n} sent.", reprint_missing: "Reprinting is not available on the server (404).",
      no_counters: "You are not assigned to any counter. Ask an administrator.", direct: "Sent directly to this counter",
      counter_n: "Counter {n}", total: "{n} waiting", need_ticket: "No ticket is being served.", logged_out: "Logged out.",
      priority: "priority",
      waiting_list: "Waiting list", noshow_list: "No-shows today", number: "Number", noshow_at: "At",
      nobody_waiting: "Nobody is waiting.", no_noshows: "No no-shows today.",
      requeue: "Requeue", call_now: "Call", requeued: "{n} is back in the queue.",
      more: "… and {n} more",
      is_noshow: "{n} was marked as a no-show, so it is no longer waiting. Press “Requeue” to put it back in the queue (at its old place) or “Call” to call it now.",
      not_waiting: "{n} is no longer waiting ({status}).",
      status_called: "being served", status_done: "done", status_expired: "expired",
    },
  };
  const t = (k, v) => MC.t(T, k, v);

  const ACTIONS = ["next", "recall", "noshow", "done", "transfer", "pause", "call", "reprint"];
  const DEFAULT_KEYS = {
    next: ["Space", "Enter", "NumpadEnter", "NumpadAdd"], recall: ["KeyR", "Numpad1"], noshow: ["KeyN", "Numpad2"],
    done: ["KeyD", "Numpad3"], transfer: ["KeyT", "Numpad4"], pause: ["KeyP", "Numpad5"],
    call: ["KeyC", "NumpadDivide"], reprint: ["KeyI", "NumpadMultiply"],
  };
  const NEEDS_TICKET = ["recall", "noshow", "done", "transfer", "reprint"];   // nothing to act on without a ticket
  const NEXT_GUARD_MS = 700;     // a second Next this soon is a double press

  const S = { user: null, n: null, snap: null, live: null, skew: 0, busy: {}, lastNext: 0,
              keys: null, recording: null };

  // -- views -----------------------------------------------------------------------
  function show(view) {
    for (const v of ["login", "picker", "counter"]) $("view-" + v).classList.toggle("hidden", v !== view);
    const inApp = view !== "login";
    $("btn-logout").classList.toggle("hidden", !inApp);
    $("btn-change").classList.toggle("hidden", view !== "counter");
    $("btn-shortcuts").classList.toggle("hidden", view !== "counter");
    $("who").textContent = S.user ? (S.user.display_name || S.user.username) : "";
    $("conn").classList.toggle("hidden", view !== "counter");     // no "Online" once logged out or choosing
    if (view !== "counter") $("counter-title").textContent = "";
    if (view === "login") setTimeout(() => $("username").focus(), 0);
  }
  function say(text, kind = "ok") { const m = $("msg"); m.textContent = text; m.className = text ? "msg " + kind : "msg"; }
  function fail(e) { say(e.message || String(e), "err"); }

  // -- login and counter choice ---------------------------------------------------------
  async function boot() {
    MC.setLang(MC.lang); refreshTexts();
    MC.api("GET", "/api/site").then((s) => { S.tz = s.timezone; if (S.snap) renderLists(S.snap); }).catch(() => {});
    try {
      const me = await MC.api("GET", "/api/auth/me");
      if (!me.user) return show("login");
      S.user = me.user; MC.csrf = me.csrf_token;
      await pickCounter();
    } catch (e) { show("login"); }
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-msg").textContent = ""; $("login-msg").className = "msg";
    try {
      const r = await MC.api("POST", "/api/auth/login", { username: $("username").value, password: $("password").value });
      S.user = r.user; MC.csrf = r.csrf_token; $("password").value = "";
      await pickCounter();
    } catch (e) { $("login-msg").textContent = e.message; $("login-msg").className = "msg err"; }
  });

  async function pickCounter(force) {
    const r = await MC.api("GET", "/api/counters");
    const allowed = r.counters.filter((c) => c.allowed);
    const asked = Number(MC.params.get("n") || 0);          // /counter?n=3: this one or a clear refusal
    const wanted = asked || Number(localStorage.getItem("motcua.counter." + S.user.username) || 0);
    if (!force && allowed.some((c) => c.counter === wanted)) return openCounter(wanted);
    let refusal = "";
    if (!force && asked) {                                  // the API's own words (403 not assigned, 404 no such counter)
      try { await MC.api("GET", `/api/counters/${asked}/state`); } catch (e) { refusal = e.message; }
    }
    if (!force && !refusal && allowed.length === 1) return openCounter(allowed[0].counter);
    const pm = $("picker-msg"); pm.textContent = refusal; pm.className = refusal ? "msg err" : "msg";
    const box = $("picker"); box.textContent = "";
    if (!allowed.length) box.append(MC.el("p", { class: "msg err" }, t("no_counters")));
    for (const c of allowed) {
      box.append(MC.el("button", { class: "act", "data-counter": c.counter, onclick: () => openCounter(c.counter) },
        c.name, MC.el("br"), MC.el("small", { class: "muted" }, c.categories.join(", "))));
    }
    show("picker");
  }

  function openCounter(n) {
    S.n = n; S.snap = null;
    localStorage.setItem("motcua.counter." + S.user.username, String(n));
    S.keys = loadKeys();
    $("counter-title").textContent = "· " + t("counter_n", { n });
    renderActions(); show("counter"); say("");
    connect();
  }

  // -- live feed ---------------------------------------------------------------------------
  // The shared client (display/live.js): heartbeat, reconnect with backoff and
  // jitter. This feed's seq is the queue's last seq when a message was built,
  // so no gap detection here; render() drops anything older than what it shows.
  function connect() {
    if (!S.live) {
      S.live = new MotcuaLive({
        url: () => MC.wsUrl(`/ws/counters/${S.n}?lang=${MC.lang}`),
        gaps: false,
        fatalCodes: [4401, 4403, 4404],
        onSnapshot: (s) => { if (mine(s.board)) render(s.board, true); },
        onMessage: (d) => { if (d.type === "event" && mine(d)) render(d); },
        onStatus: (st) => { if (st !== "banner") setConn(st === "online"); },
        onFatal: (f) => {
          if (f.code === 4401) { S.user = null; return show("login"); }
          pickCounter(true);                     // 4403, 4404: not (or no longer) this clerk's counter
        },
      });
      S.live.start();
    } else {
      S.live.reconnect();
    }
  }
  const mine = (d) => !!d.counter && d.counter.number === S.n;     // not a late message for another counter
  function disconnect() { if (S.live) S.live.stop(); setConn(false); }
  function setConn(on) { const c = $("conn"); c.dataset.state = on ? "on" : "off"; c.textContent = t(on ? "online" : "offline"); c.className = "pill " + (on ? "open" : "paused"); }

  function render(d, fresh) {
    if (!fresh && S.snap && d.seq != null && S.snap.seq != null && d.seq < S.snap.seq) return;   // stale
    S.snap = d; S.skew = d.now - Date.now();
    const st = d.counter.status;
    const pill = $("counter-status"); pill.textContent = t("st_" + st); pill.className = "pill " + st; pill.dataset.status = st;
    const tk = d.ticket;
    $("ticket-empty").classList.toggle("hidden", !!tk);
    $("ticket-body").classList.toggle("hidden", !tk);
    $("ticket-card").dataset.ticket = tk ? tk.id : "";
    if (tk) {
      $("ticket-number").textContent = tk.number;
      if (tk.slot_start != null) $("ticket-number").append(slotBadge(tk.slot_start));
      const cat = d.all_categories.find((c) => c.code === tk.category);
      $("ticket-category").textContent = (cat ? (MC.lang === "en" && cat.name_en ? cat.name_en : cat.name) : tk.category)
        + (tk.priority ? ` (${t("priority")})` : "");
      $("ticket-source").textContent = t("src_" + tk.source) +
        (tk.source === "transfer" && tk.original_category && tk.original_category !== tk.category ? ` (${tk.original_category} → ${tk.category})` : "") +
        (tk.slot_start != null ? ` · ${t("slot_title", { t: clock(tk.slot_start) })}` : "");
      $("ticket-source").dataset.source = tk.source;
      $("ticket-waited").textContent = MC.dur(tk.waited_ms);
      $("ticket-calls").textContent = tk.calls;
    }
    const s = d.stats;
    $("stat-served").textContent = s.served; $("stat-noshow").textContent = s.no_shows;
    $("stat-avg").textContent = s.avg_service_ms == null ? "—" : MC.dur(s.avg_service_ms);
    const body = $("preview").querySelector("tbody"); body.textContent = "";
    const p = d.preview;
    const rows = p.categories.map((c) => [`${c.prefix} · ${MC.lang === "en" && c.name_en ? c.name_en : c.name}`, c.count, c.oldest_wait_ms, c.category]);
    if (p.direct.count) rows.unshift([t("direct"), p.direct.count, p.direct.oldest_wait_ms, "direct"]);
    for (const [name, count, wait, code] of rows) {
      body.append(MC.el("tr", { "data-category": code }, MC.el("td", {}, name), MC.el("td", { class: "count" }, count),
        MC.el("td", { class: "wait", "data-wait": wait == null ? "" : wait }, "—")));
    }
    $("preview-total").textContent = t("total", { n: p.total });
    renderLists(d);
    const sel = $("call-prefix"), want = d.all_categories.map((c) => c.prefix).join();
    if (sel.dataset.prefixes !== want) {        // this counter's categories first
      const mine = d.counter.categories.map((c) => c.prefix);
      const all = [...mine, ...d.all_categories.map((c) => c.prefix).filter((x) => !mine.includes(x))];
      sel.textContent = ""; for (const x of all) sel.append(MC.el("option", { value: x }, x));
      sel.dataset.prefixes = want;
    }
    tick();
    renderActions();
  }

  const catName = (d, code, fallback) => {
    const c = d.all_categories.find((x) => x.code === code);
    return c ? `${c.prefix} · ${MC.lang === "en" && c.name_en ? c.name_en : c.name}` : (fallback || code);
  };
  const clock = (ms) => new Date(ms).toLocaleTimeString(MC.lang === "en" ? "en-GB" : "vi-VN",
    { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: S.tz || undefined });
  // an appointment's ticket: its slot time, as a badge by the number
  const slotBadge = (ms) => MC.el("span", { class: "appt-slot", "data-slot": clock(ms), title: t("slot_title", { t: clock(ms) }) },
    t("slot_at", { t: clock(ms) }));
  function renderLists(d) {
    const wl = d.waiting || [], nl = d.no_shows || [];
    const wb = $("waiting").querySelector("tbody"); wb.textContent = "";
    for (const w of wl) {
      wb.append(MC.el("tr", { "data-ticket": w.id, "data-number": w.number },
        MC.el("td", { class: "num" }, w.number, w.priority ? MC.el("small", { class: "muted" }, ` (${t("priority")})`) : null,
          w.slot_start != null ? slotBadge(w.slot_start) : null),
        MC.el("td", {}, catName(d, w.category, w.category_name)),
        MC.el("td", { class: "wait", "data-wait": w.wait_ms }, MC.dur(w.wait_ms)),
        MC.el("td", {}, MC.el("button", { class: "act", "data-action": "call", type: "button",
          onclick: () => callTicket(w.id, w.number) }, t("call_now")))));
    }
    const more = d.preview.total - wl.length;
    if (more > 0) wb.append(MC.el("tr", { class: "more" }, MC.el("td", { colspan: 4, class: "muted" }, t("more", { n: more }))));
    $("waiting-empty").classList.toggle("hidden", wl.length > 0);
    const nb = $("noshows").querySelector("tbody"); nb.textContent = "";
    for (const x of nl) {
      nb.append(MC.el("tr", { "data-ticket": x.id, "data-number": x.number },
        MC.el("td", { class: "num" }, x.number),
        MC.el("td", {}, catName(d, x.category, x.category_name)),
        MC.el("td", {}, x.finished_at ? clock(x.finished_at) : "—"),
        MC.el("td", {}, noShowButtons(x.id, x.number))));
    }
    $("noshows-empty").classList.toggle("hidden", nl.length > 0);
  }
  function noShowButtons(id, number) {
    return [
      MC.el("button", { class: "act", "data-action": "requeue", type: "button", onclick: () => requeue(id, number) }, t("requeue")),
      MC.el("button", { class: "act primary", "data-action": "call", type: "button",
        onclick: async () => { if (await requeue(id, number, true)) await callTicket(id, number); } }, t("call_now")),
    ];
  }

  function tick() {
    if (!S.snap) return;
    const tk = S.snap.ticket, now = Date.now() + S.skew;
    if (tk && tk.called_at) $("ticket-timer").textContent = MC.dur(now - tk.called_at);
    for (const td of document.querySelectorAll("#preview td.wait, #waiting td.wait")) {   // waits keep growing
      td.textContent = td.dataset.wait === "" ? "—" : MC.dur(Number(td.dataset.wait) + now - S.snap.now);
    }
  }
  setInterval(tick, 1000);

  // -- actions ---------------------------------------------------------------------------------
  function label(a) {
    if (a === "pause" && S.snap && S.snap.counter.status === "paused") return t("a_resume");
    return t("a_" + a);
  }
  function keyName(code) {
    return code.replace(/^Key/, "").replace(/^Digit/, "").replace(/^Numpad/, "Num ");
  }
  function renderActions() {                  // built once, then updated in place (a click is never lost)
    const box = $("actions");
    for (const a of ACTIONS) {
      let b = document.getElementById("btn-" + a);
      if (!b) {
        b = MC.el("button", { class: "act" + (a === "next" ? " primary" : a === "noshow" ? " danger" : ""), id: "btn-" + a,
          "data-action": a, onclick: (ev) => { ev.currentTarget.blur(); run(a); } }, MC.el("span", { class: "label" }), MC.el("kbd"));
        box.append(b);
      }
      const keys = (S.keys && S.keys[a]) || [];
      b.querySelector(".label").textContent = label(a);
      b.querySelector("kbd").textContent = keys.slice(0, 2).map(keyName).join(" / ");
      b.disabled = !!S.busy[a] || (NEEDS_TICKET.includes(a) && !(S.snap && S.snap.ticket));
    }
  }

  async function post(action, path, body, okText, onError) {
    if (S.busy[action]) return null;            // the press before this one is still on its way
    S.busy[action] = true; renderActions();
    const key = MC.newKey();                    // one key per press; retries reuse it
    try {
      const r = await MC.api("POST", path, body, { idem: key });
      if (action !== "next") S.lastNext = 0;    // Done/No-show/… then Next is not a double press
      if (okText) say(okText(r));
      return r;
    } catch (e) {
      if (!(onError && await onError(e, body))) fail(e);
      return null;
    }
    finally { S.busy[action] = false; renderActions(); }
  }

  const base = () => `/api/counters/${S.n}`;
  const num = (r) => (r && r.ticket ? r.ticket.number : "");

  async function run(a) {
    if (!S.n) return;
    const cur = S.snap && S.snap.ticket;
    switch (a) {
      case "next": {
        const now = Date.now();
        if (S.busy.next || now - S.lastNext < NEXT_GUARD_MS) return;   // double press: one citizen only
        S.lastNext = now;
        await post("next", base() + "/next", undefined, (r) => t("called", { n: num(r) }));
        S.lastNext = Date.now();
        break;
      }
      case "recall": return post("recall", base() + "/recall", undefined, (r) => t("recalled", { n: num(r) }));
      case "noshow": return post("noshow", base() + "/no-show", undefined, (r) => t("noshow_msg", { n: num(r) }));
      case "done": return post("done", base() + "/done", undefined, (r) => t("done_msg", { n: num(r) }));
      case "pause": {
        const paused = S.snap && S.snap.counter.status === "paused";
        return post("pause", base() + (paused ? "/resume" : "/pause"), undefined, () => t(paused ? "resumed" : "paused"));
      }
      case "transfer": if (!cur) return say(t("need_ticket"), "err"); return openTransfer();
      case "call": $("call-number").focus(); $("call-number").select(); return;
      case "reprint": return reprint();
    }
  }

  // A keypad with Num Lock off still types digits into the number field.
  $("call-number").addEventListener("keydown", (ev) => {
    const m = /^Numpad(\d)$/.exec(ev.code);
    if (m && ev.key !== m[1]) { ev.preventDefault(); ev.target.setRangeText(m[1], ev.target.selectionStart, ev.target.selectionEnd, "end"); }
  });

  $("call-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let number = $("call-number").value.trim();
    if (!number) return;
    if (/^\d+$/.test(number)) number = $("call-prefix").value + number;    // digits only, from a numeric keypad
    const r = await post("call", base() + "/call", { number }, (r) => t("called", { n: num(r) }), explainNotWaiting);
    if (r) { $("call-number").value = ""; $("call-number").blur(); }
  });

  // "Call a number" of a ticket that no longer waits: say why; a no-show
  // gets its Requeue and Call buttons right in the message.
  async function explainNotWaiting(e, body) {
    if (e.code !== "ticket_not_waiting" || !body || !body.number) return false;
    let tk;
    try { tk = (await MC.api("GET", "/api/tickets?number=" + encodeURIComponent(body.number))); } catch (x) { return false; }
    if (tk.status === "no_show") {
      say(t("is_noshow", { n: tk.number }), "err");
      $("msg").append(" ", ...noShowButtons(tk.id, tk.number));
    } else {
      say(t("not_waiting", { n: tk.number, status: t("status_" + tk.status) }), "err");
    }
    $("call-number").blur();
    return true;
  }

  async function requeue(id, number, quiet) {
    const r = await post("requeue", `/api/tickets/${encodeURIComponent(id)}/requeue`, undefined,
      quiet ? null : () => t("requeued", { n: number }));
    return !!r;
  }
  async function callTicket(id, number) {
    return post("call", base() + "/call", { ticket: id }, (r) => t("called", { n: num(r) || number }));
  }

  async function reprint() {
    const cur = S.snap && S.snap.ticket;
    if (!cur) return say(t("need_ticket"), "err");
    if (S.busy.reprint) return;
    S.busy.reprint = true; renderActions();
    try {
      await MC.api("POST", `/api/tickets/${encodeURIComponent(cur.id)}/reprint`, {}, { idem: MC.newKey() });
      say(t("reprinted", { n: cur.number }));
    } catch (e) {
      if (e.status === 404 && (e.code === "not_found" || e.code === "")) say(t("reprint_missing"), "err");
      else fail(e);
    } finally { S.busy.reprint = false; renderActions(); }
  }

  // -- transfer dialog -----------------------------------------------------------------------------
  function openTransfer() {
    const d = $("transfer-dialog"), snap = S.snap;
    const cats = $("transfer-cats"), ctrs = $("transfer-counters");
    cats.textContent = ""; ctrs.textContent = "";
    let i = 1;
    for (const c of snap.all_categories.filter((c) => c.enabled && c.code !== snap.ticket.category)) {
      const k = i++;
      cats.append(MC.el("button", { class: "act", "data-category": c.code, "data-hotkey": String(k),
        onclick: () => doTransfer({ category: c.code }) }, `${c.prefix} · ${MC.lang === "en" && c.name_en ? c.name_en : c.name}`, MC.el("kbd", {}, k)));
    }
    for (const c of snap.all_counters.filter((c) => c.enabled && c.number !== S.n)) {
      ctrs.append(MC.el("button", { class: "act", "data-counter": c.number, onclick: () => doTransfer({ counter: c.number }) }, c.name));
    }
    d.showModal();
  }
  async function doTransfer(body) {
    $("transfer-dialog").close();
    await post("transfer", base() + "/transfer", body, (r) => t("transferred", { n: num(r) }));
  }
  $("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());

  // -- keyboard ---------------------------------------------------------------------------------------
  function loadKeys() {
    try {
      const saved = JSON.parse(localStorage.getItem("motcua.shortcuts." + (S.user ? S.user.username : "")) || "null");
      if (saved && typeof saved === "object") return Object.assign({}, DEFAULT_KEYS, saved);
    } catch (e) { /* defaults */ }
    return JSON.parse(JSON.stringify(DEFAULT_KEYS));
  }
  function saveKeys() { localStorage.setItem("motcua.shortcuts." + S.user.username, JSON.stringify(S.keys)); }

  document.addEventListener("keydown", (ev) => {
    if (S.recording) {                          // assigning a new shortcut
      ev.preventDefault();
      if (ev.code !== "Escape") {
        for (const a of ACTIONS) S.keys[a] = (S.keys[a] || []).filter((c) => c !== ev.code);
        S.keys[S.recording] = [ev.code, ...(S.keys[S.recording] || [])].slice(0, 4);
        saveKeys();
      }
      S.recording = null; renderShortcuts(); renderActions();
      return;
    }
    if ($("view-counter").classList.contains("hidden")) return;
    const td = $("transfer-dialog");
    if (td.open) {
      const digit = (/^(?:Digit|Numpad)(\d)$/.exec(ev.code) || [])[1];
      const b = digit && td.querySelector(`[data-hotkey="${digit}"]`);
      if (b) { ev.preventDefault(); b.click(); }
      return;
    }
    if ($("shortcut-dialog").open) return;
    const tag = (ev.target && ev.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
      if (ev.code === "Escape") ev.target.blur();
      return;
    }
    if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
    const action = ACTIONS.find((a) => (S.keys[a] || []).includes(ev.code));
    if (!action) return;
    ev.preventDefault();
    if (ev.repeat) return;                      // a held key is one press
    run(action);
  });

  function renderShortcuts() {
    const body = $("shortcut-table").querySelector("tbody"); body.textContent = "";
    for (const a of ACTIONS) {
      body.append(MC.el("tr", {}, MC.el("td", {}, label(a)),
        MC.el("td", {}, S.recording === a ? t("press_key") : (S.keys[a] || []).map(keyName).join(", ")),
        MC.el("td", {}, MC.el("button", { class: "act", "data-record": a, onclick: () => { S.recording = a; renderShortcuts(); } }, t("change")))));
    }
  }
  $("btn-shortcuts").addEventListener("click", () => { renderShortcuts(); $("shortcut-dialog").showModal(); });
  $("shortcut-close").addEventListener("click", () => $("shortcut-dialog").close());
  $("shortcut-reset").addEventListener("click", () => { S.keys = JSON.parse(JSON.stringify(DEFAULT_KEYS)); saveKeys(); renderShortcuts(); renderActions(); });

  // -- header buttons ------------------------------------------------------------------------------------
  function refreshTexts() {
    MC.applyI18n(T);
    $("btn-lang").textContent = MC.lang === "en" ? "Tiếng Việt" : "English";
    if (S.n) $("counter-title").textContent = "· " + t("counter_n", { n: S.n });
    document.title = t("title") + " – motcua";
  }
  $("btn-lang").addEventListener("click", () => {
    MC.setLang(MC.lang === "en" ? "vi" : "en"); refreshTexts(); renderActions();
    if (S.n) connect();                         // category names come in the feed's language
  });
  $("btn-change").addEventListener("click", () => { disconnect(); S.n = null; pickCounter(true); });
  $("btn-logout").addEventListener("click", async () => {
    try { await MC.api("POST", "/api/auth/logout"); } catch (e) { /* already gone */ }
    disconnect();
    S.user = null; S.n = null; show("login");
  });

  window.motcuaCounter = S;                    // for diagnostics
  boot();
})();
