/* motcua display: rendering the board and wiring the live feed to the
 * announcement queue. Numbers only, never names. */
(function (global) {
  "use strict";
  var doc = global.document;
  var params = new URLSearchParams(global.location.search);
  var token = params.get("token") || "";
  var lang = params.get("lang") === "en" ? "en" : "vi";
  var HIGHLIGHT_MS = 10000;
  var TZ_KEY = "motcua.timezone";        // the site's zone, remembered for a start while offline

  var T = {
    vi: {
      subtitle: "Bảng gọi số thứ tự", now: "Đang mời", recent: "Số vừa gọi", waiting: "Đang chờ",
      counter: "Quầy", paused: "Tạm dừng", closed: "Đóng", idle: "Chưa gọi", people: "người",
      eta: "khoảng {m} phút", etaRange: "khoảng {lo}–{hi} phút", etaNone: "—", seatsLabel: "Ghế chờ đang dùng", seatsNote: "trên tổng số ghế",
      fullShort: "Đã hết chỗ ngồi",
      full: "Phòng chờ đã hết chỗ ngồi. Mời quý công dân theo dõi lượt của mình bằng mã QR trên phiếu.",
      offline: "Mất kết nối – đang kết nối lại", empty: "Chưa có số nào được gọi",
      weekdays: ["Chủ Nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"],
      date: "{wd}, ngày {d} tháng {m} năm {y}", unlock: "Bấm để bật âm thanh"
    },
    en: {
      subtitle: "Queue board", now: "Now calling", recent: "Recent calls", waiting: "Waiting",
      counter: "Counter", paused: "Paused", closed: "Closed", idle: "Not calling", people: "people",
      eta: "about {m} min", etaRange: "about {lo}–{hi} min", etaNone: "—", seatsLabel: "Seats in use", seatsNote: "of all seats",
      fullShort: "No seats left",
      full: "The waiting room is full. Please follow your turn with the QR code on your ticket.",
      offline: "Connection lost – reconnecting", empty: "No calls yet",
      weekdays: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
      date: "{wd}, {d}/{m}/{y}", unlock: "Tap to enable sound",
      call: "Number {number}, please go to counter {counter}"
    }
  };
  var t = T[lang];

  function fmt(s, vals) {
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vals[k] === undefined ? "" : String(vals[k]); });
  }
  function $(id) { return doc.getElementById(id); }
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  var state = {
    board: null,
    clockOffset: 0,            // server time - local time
    highlight: null,           // {counter, number, text, until}
    announced: {}              // seq -> true
  };

  // -- static labels ---------------------------------------------------------
  doc.documentElement.lang = lang;
  Array.prototype.forEach.call(doc.querySelectorAll("[data-t]"), function (n) {
    var k = n.getAttribute("data-t");
    if (t[k]) n.textContent = t[k];
  });
  $("offline-banner").textContent = t.offline;

  // -- clock -----------------------------------------------------------------
  // Wall-clock time in the site's time zone (from /api/site and every
  // snapshot's site.timezone), never the browser's own zone. Until the zone
  // is known the clock stays blank rather than show a wrong hour.
  var clockFmt = null;
  var WD = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

  function setTimeZone(tz) {
    if (!tz || (clockFmt && clockFmt.tz === tz)) return;
    try {
      clockFmt = {
        tz: tz,
        f: new Intl.DateTimeFormat("en-US", {
          timeZone: tz, hourCycle: "h23", hour: "2-digit", minute: "2-digit",
          year: "numeric", month: "2-digit", day: "2-digit", weekday: "short"
        })
      };
    } catch (e) {
      return;                              // an unknown zone: keep the one we had
    }
    try { global.localStorage.setItem(TZ_KEY, tz); } catch (e) { /* private mode */ }
    renderClock();
  }

  function siteParts(ms) {
    var parts = {};
    clockFmt.f.formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
    return {
      hour: parts.hour === "24" ? "00" : parts.hour, minute: parts.minute,
      day: parts.day, month: parts.month, year: parts.year, weekday: WD[parts.weekday]
    };
  }

  function renderClock() {
    if (!clockFmt) return;
    var p = siteParts(Date.now() + state.clockOffset);
    $("clock-time").textContent = p.hour + ":" + p.minute;
    $("clock-date").textContent = fmt(t.date, { wd: t.weekdays[p.weekday], d: p.day, m: p.month, y: p.year });
    $("clock-time").setAttribute("data-tz", clockFmt.tz);
  }

  // -- board -----------------------------------------------------------------
  function catName(o) {
    if (lang === "en" && o.category_name_en) return o.category_name_en;
    return o.category_name || "";
  }

  function renderCounters(b) {
    var box = $("counters");
    var hl = state.highlight && state.highlight.until > Date.now() ? state.highlight : null;
    box.textContent = "";
    b.counters.forEach(function (c) {
      var card = el("div", "counter status-" + c.status);
      card.setAttribute("data-counter", c.counter);
      if (hl && String(hl.counter) === String(c.counter) && hl.number === c.number) card.className += " flash";
      card.appendChild(el("div", "counter-name", t.counter + " " + c.counter));
      card.appendChild(el("div", "counter-number", c.number || "—"));
      card.appendChild(el("div", "counter-cat", c.number ? catName(c) : t.idle));
      if (c.status === "paused") card.appendChild(el("div", "counter-badge", t.paused));
      if (c.status === "closed") card.appendChild(el("div", "counter-badge", t.closed));
      box.appendChild(card);
    });
    if (b.seats) {
      // seats in use against the room's seats, in the grid's spare cell: the people in the room
      // (b.room: not those sent away until their come-back time); when the room is predicted
      // full, new tickets say when to come back, and the card says so
      var room = b.room || null;
      var used = room ? room.taken : Math.min(b.waiting_total || 0, b.seats);
      var away = !!(room && room.full);
      var sc = el("div", "counter seats-card" + (b.full || away ? " is-full" : ""));
      sc.id = "seats";
      sc.dataset.full = away ? "room" : b.full ? "seats" : "";
      sc.appendChild(el("div", "seats-label", t.seatsLabel));
      sc.appendChild(el("div", "seats-value", used + "/" + b.seats));
      var note = away ? ((lang === "en" ? room.text_en : room.text) || t.fullShort) : b.full ? t.fullShort : t.seatsNote;
      sc.appendChild(el("div", "seats-note", note));
      box.appendChild(sc);
    }
  }

  function renderRecent(b) {
    var ol = $("recent");
    ol.textContent = "";
    var list = (b.recent || []).slice(0, 8);
    if (!list.length) {
      ol.appendChild(el("li", "empty", t.empty));
      return;
    }
    list.forEach(function (r, i) {
      var li = el("li", i === 0 ? "recent-item latest" : "recent-item");
      li.appendChild(el("span", "recent-number", r.number));
      li.appendChild(el("span", "recent-arrow", "→"));
      li.appendChild(el("span", "recent-counter", t.counter + " " + r.counter));
      ol.appendChild(li);
    });
  }

  function renderWaiting(b) {
    var tb = $("waiting");
    tb.textContent = "";
    (b.waiting || []).forEach(function (w) {
      var tr = el("tr");
      var nameCell = el("td", "w-name");
      nameCell.appendChild(el("span", "w-prefix", w.prefix));
      nameCell.appendChild(doc.createTextNode(" " + (lang === "en" && w.name_en ? w.name_en : w.name)));
      tr.appendChild(nameCell);
      tr.appendChild(el("td", "w-count", String(w.count)));
      tr.appendChild(el("td", "w-eta", !w.count ? t.etaNone : w.eta_range ? fmt(t.etaRange, { lo: w.eta_range[0], hi: w.eta_range[1] }) : fmt(t.eta, { m: w.eta_minutes })));
      tb.appendChild(tr);
    });
    var full = $("full-banner");
    full.hidden = !b.full;
    full.textContent = t.full;
  }

  function renderNotice(b) {
    var n = $("notice");
    var text = b.notice || "";
    if (n.textContent !== text) n.textContent = text;
    n.parentNode.parentNode.hidden = !text;
  }

  function renderHighlight() {
    var box = $("now-calling");
    var hl = state.highlight;
    if (hl && hl.until > Date.now()) {
      $("now-text").textContent = hl.text;
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }

  function render() {
    var b = state.board;
    if (!b) return;
    $("site-name").textContent = (lang === "en" && b.site.name_en) ? b.site.name_en : b.site.name;
    doc.title = t.subtitle + " – " + b.site.name;
    renderCounters(b);
    renderRecent(b);
    renderWaiting(b);
    renderNotice(b);
    renderHighlight();
  }

  function setBoard(b) {
    state.board = b;
    if (typeof b.now === "number") state.clockOffset = b.now - Date.now();
    if (b.site && b.site.timezone) setTimeZone(b.site.timezone);
    if (b.voice) announcer.configure(b.voice);
    render();
  }

  // A call's caption when the server did not send one (older events in a snapshot).
  function captionFor(number, counter) {
    var tpl = (state.board && state.board.voice && state.board.voice.template) ||
      "Mời công dân có số {number} đến quầy số {counter}";
    return tpl.replace("{number}", number).replace("{counter}", String(counter));
  }

  // -- announcements ---------------------------------------------------------
  var announcer = new global.MotcuaAnnouncer({
    chimeUrl: "/display/static/chime.wav",
    voiceUrl: function (text) {
      return "/api/voice?text=" + encodeURIComponent(text) + "&token=" + encodeURIComponent(token);
    },
    onStart: function (item) {
      // the caption follows the board's language; the voice stays the configured Vietnamese
      var text = lang === "en" && item.number ? fmt(t.call, { number: item.number, counter: item.counter }) : item.text;
      state.highlight = { counter: item.counter, number: item.number, text: text, until: Date.now() + HIGHLIGHT_MS };
      render();
    },
    onEnd: function () {},
    onBlocked: function () { $("sound-unlock").hidden = false; }
  });
  $("sound-unlock").textContent = t.unlock + (lang === "vi" ? " / Tap to enable sound" : "");
  $("sound-unlock").addEventListener("click", function () { $("sound-unlock").hidden = true; });

  function announce(a) {
    if (!a || state.announced[a.seq]) return;
    state.announced[a.seq] = true;
    announcer.enqueue(a);
  }

  // -- live feed -------------------------------------------------------------
  function wsUrl() {
    var proto = global.location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + global.location.host + "/ws/board?token=" + encodeURIComponent(token);
  }

  var testing = params.get("hb") ? Number(params.get("hb")) : 0;
  var live = new global.MotcuaLive({
    url: wsUrl,
    heartbeatMs: testing || 10000,
    deadMs: testing ? testing * 3 : 35000,
    onSnapshot: function (s) {
      var b = s.board;
      // After a reconnect, speak calls made while we were away (not older than a minute).
      if (s.previousSeq > 0 && b.seq > s.previousSeq) {
        (b.recent || []).slice().reverse().forEach(function (r) {
          if (r.seq > s.previousSeq && b.now - r.ts < 60000) {
            announce({ type: r.type, seq: r.seq, number: r.number, counter: String(r.counter),
                       text: r.text || captionFor(r.number, r.counter), speech: r.speech || null });
          }
        });
      }
      setBoard(b);
    },
    onEvent: function (msg) {
      setBoard(msg.board);
      var list = msg.announces || (msg.announce ? [msg.announce] : []);
      list.forEach(function (a) {
        if (!(a.seq <= msg.previousSeq)) announce(a);     // parts of a run we already had are not repeated
      });
    },
    onStatus: function (s) {
      $("board").setAttribute("data-state", s === "banner" ? "offline" : s);
      if (s === "banner") $("offline-banner").hidden = false;
      if (s === "online") $("offline-banner").hidden = true;
    }
  });

  setInterval(function () {
    renderClock();
    if (state.highlight && state.highlight.until <= Date.now()) {
      state.highlight = null;
      render();
    }
  }, 1000);
  try { setTimeZone(global.localStorage.getItem(TZ_KEY)); } catch (e) { /* no storage */ }
  if (global.fetch) {
    global.fetch("/api/site").then(function (r) { return r.json(); })
      .then(function (s) { if (s && s.timezone) setTimeZone(s.timezone); })
      .catch(function () { /* the snapshot brings it too */ });
  }
  renderClock();
  live.start();

  global.motcuaBoard = { live: live, announcer: announcer, state: state };
})(window);
