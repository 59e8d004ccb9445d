// Rating tablet facing the citizen at one counter: after a ticket is served
// (Done, or Next, which finishes it as served), offers the configured scale
// for about 30 s, whatever the clerk does next; one rating per ticket. While
// it is open, the number the counter now serves shows beside it.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const T = {
    vi: { welcome: "Xin chào quý công dân", idle: "Sau khi được phục vụ, xin mời quý vị đánh giá tại đây.",
      question: "Quý vị có hài lòng với sự phục vụ?", ticket: "Số thứ tự", serving: "Quầy đang phục vụ số", closes: "Tự đóng sau",
      thanks: "Xin cảm ơn!", thanks_sub: "Ý kiến của quý vị giúp chúng tôi phục vụ tốt hơn.",
      offline: "Mất kết nối – đang kết nối lại…", counter: "Quầy {n}",
      refused: "Máy bảng này không được phép kết nối. Xin liên hệ quản trị viên.",
      s3_1: "Không hài lòng", s3_2: "Hài lòng", s3_3: "Rất hài lòng",
      s5_1: "Rất không hài lòng", s5_2: "Không hài lòng", s5_3: "Bình thường", s5_4: "Hài lòng", s5_5: "Rất hài lòng" },
    en: { welcome: "Welcome", idle: "After your service, please rate it here.",
      question: "Were you satisfied with our service?", ticket: "Ticket", serving: "Now serving", closes: "Closes in",
      thanks: "Thank you!", thanks_sub: "Your feedback helps us serve you better.",
      offline: "Disconnected – reconnecting…", counter: "Counter {n}",
      refused: "This tablet is not allowed to connect. Please ask an administrator.",
      s3_1: "Unsatisfied", s3_2: "Satisfied", s3_3: "Very satisfied",
      s5_1: "Very unsatisfied", s5_2: "Unsatisfied", s5_3: "Neutral", s5_4: "Satisfied", s5_5: "Very satisfied" },
  };
  const t = (k, v) => MC.t(T, k, v);
  const n = Number(location.pathname.split("/").filter(Boolean).pop());
  const token = MC.params.get("token");
  const S = { pending: null, serving: null, scale: 3, skew: 0, timer: null, sending: false, live: null };

  function screen(name) { for (const s of ["idle", "ask", "thanks"]) $(s).classList.toggle("hidden", s !== name); }

  function serving(number) {
    S.serving = number || null;
    const show = !!S.serving && !(S.pending && S.pending.number === S.serving);
    $("serving-number").textContent = S.serving || "";
    $("serving").classList.toggle("hidden", !show);
  }
  function ask(p) {
    if (!p || !p.ticket) return;
    S.pending = p;
    $("ask-number").textContent = p.number;
    serving(S.serving);
    $("ask-msg").textContent = ""; $("ask-msg").className = "msg";
    const box = $("scale"); box.textContent = "";
    for (let lvl = 1; lvl <= S.scale; lvl++) {
      box.append(MC.el("button", { "data-level": lvl, class: lvl === S.scale ? "top" : "", onclick: () => rate(lvl) }, t(`s${S.scale}_${lvl}`)));
    }
    screen("ask"); countdown();
  }
  function countdown() {
    clearInterval(S.timer);
    const step = () => {
      if (!S.pending) return clearInterval(S.timer);
      const left = Math.ceil((S.pending.until - (Date.now() + S.skew)) / 1000);
      $("countdown").textContent = Math.max(0, left);
      if (left <= 0) { S.pending = null; clearInterval(S.timer); screen("idle"); }
    };
    step(); S.timer = setInterval(step, 500);
  }
  async function rate(level) {
    if (!S.pending || S.sending) return;
    S.sending = true;
    try {
      await MC.api("POST", `/api/rate/${n}`, { ticket: S.pending.ticket, level }, { token });
      thanks();
    } catch (e) {
      if (e.code === "already_rated") thanks();
      else { $("ask-msg").textContent = e.message; $("ask-msg").className = "msg err"; }
    } finally { S.sending = false; }
  }
  function thanks() { S.pending = null; clearInterval(S.timer); screen("thanks"); setTimeout(() => { if (!S.pending) screen("idle"); }, 4000); }

  // The shared client (display/live.js). This feed skips other counters'
  // events, so its messages carry no contiguous seq: no gap detection.
  function onFeed(d) {
    if (d.now) S.skew = d.now - Date.now();
    if (d.scale) S.scale = d.scale;
    if (d.type === "snapshot") { serving(d.serving); if (d.pending) ask(d.pending); }
    else if (d.type === "rate") { S.serving = null; ask(d); }       // the citizen served has left the desk
    else if (d.type === "rated") { if (S.pending && S.pending.ticket === d.ticket) thanks(); }
    else if (d.type === "serving") serving(d.number);               // the next citizen: the open rating stays
  }
  function connect() {
    S.live = new MotcuaLive({
      url: () => MC.wsUrl(`/ws/rate/${n}?token=${encodeURIComponent(token || "")}`),
      gaps: false,
      fatalCodes: [4401, 4403, 4404],
      onSnapshot: (s) => onFeed(s.board),
      onMessage: onFeed,
      onStatus: (st) => {
        if (st === "online") $("conn").textContent = t("counter", { n });
        else if (st === "offline") $("conn").textContent = t("offline");
      },
      onFatal: () => { $("conn").textContent = t("refused"); },     // not allowed (revoked token, wrong counter): stop
    }).start();
  }
  function texts() {
    MC.applyI18n(T); $("lang").textContent = MC.lang === "en" ? "Tiếng Việt" : "English";
    if (S.live) $("conn").textContent = S.live.online ? t("counter", { n }) : t(S.live.fatal ? "refused" : "offline");
    if (S.pending) ask(S.pending);
  }
  $("lang").addEventListener("click", () => { MC.setLang(MC.lang === "en" ? "vi" : "en"); texts(); });
  fetch("/api/site").then((r) => r.json()).then((s) => { $("site-name").textContent = MC.lang === "en" && s.name_en ? s.name_en : s.name; }).catch(() => {});
  window.motcuaRate = S;                       // for diagnostics
  texts(); connect();
})();
