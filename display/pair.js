/* motcua display pairing: show a code, wait for an admin to type it in the
 * admin page, keep the display token this TV receives, open the board.
 * ES5 and XMLHttpRequest only: TV-box browsers are old. */
(function (global) {
  "use strict";
  var KEY = "motcua.display.token";
  var POLL_MS = 2000;
  var doc = global.document;
  var params = new URLSearchParams(global.location.search);
  var lang = params.get("lang") === "en" ? "en" : "vi";
  var T = {
    vi: { waiting: "Đang chờ quản trị viên nhập mã…", paired: "Đã ghép nối. Đang mở bảng gọi số…",
          offline: "Mất kết nối tới máy chủ – đang thử lại…", expired: "Mã đã hết hạn – đang lấy mã mới…" },
    en: { waiting: "Waiting for an admin to type the code…", paired: "Paired. Opening the board…",
          offline: "Cannot reach the server – retrying…", expired: "The code expired – getting a new one…" }
  };

  function store(k, v) {
    try { if (v === null) { global.localStorage.removeItem(k); } else { global.localStorage.setItem(k, v); } } catch (e) { /* private mode */ }
  }
  function saved() {
    try { return global.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function status(key) {
    doc.getElementById("pair-status").textContent = T[lang][key];
    doc.getElementById("pair").setAttribute("data-state", key);
  }
  function openBoard(token) {
    global.location.replace("/display?token=" + encodeURIComponent(token) + (lang === "en" ? "&lang=en" : ""));
  }
  function request(method, url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      done(xhr.status, body);
    };
    xhr.send(method === "POST" ? "{}" : null);
  }
  function start() {
    request("POST", "/api/display/pairing", function (code, body) {
      if (code !== 201 || !body) { status("offline"); global.setTimeout(start, 5000); return; }
      doc.getElementById("pair-code").textContent = body.code.slice(0, 3) + " " + body.code.slice(3);
      status("waiting");
      poll(body.poll_id);
    });
  }
  function poll(pollId) {
    request("GET", "/api/display/pairing/" + encodeURIComponent(pollId), function (code, body) {
      if (code === 200 && body && body.status === "paired" && body.token) {
        store(KEY, body.token);
        status("paired");
        openBoard(body.token);
      } else if (code === 200) {
        global.setTimeout(function () { poll(pollId); }, POLL_MS);
      } else if (code === 404) {
        status("expired");
        start();
      } else {
        status("offline");
        global.setTimeout(function () { poll(pollId); }, 5000);
      }
    });
  }

  if (lang === "en") {
    doc.documentElement.lang = "en";
    doc.getElementById("pair-title").textContent = "Pair this display";
    doc.getElementById("pair-label").textContent = "Pairing code";
    doc.getElementById("pair-help").textContent = "An admin opens Admin › Devices › “Pair a display” and types this code. " +
      "It is valid for 10 minutes; then the screen shows a new one.";
  }
  var urlToken = params.get("token");
  if (urlToken) {
    // this page instead of the board: the token in the address is not (or no longer) valid
    if (saved() === urlToken) { store(KEY, null); }
    start();
  } else if (saved()) {
    openBoard(saved());          // paired before: straight to the board
  } else {
    start();
  }
}(window));
