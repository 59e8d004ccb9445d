/* motcua display: the live connection to /ws/board.
 *
 * Protocol: the server sends {"type":"snapshot","seq":N,...} on connect, then
 * {"type":"event","seq":N,"event":{...},"board":{...}} per event. Sequence
 * numbers are contiguous; a jump means a lost message, so the client asks
 * for a fresh snapshot ({"type":"sync"}). Heartbeats run both ways: the
 * client sends {"type":"ping"} (server answers "pong"), the server sends
 * "ping" when idle; a silent socket is closed and reopened. Reconnects use
 * exponential backoff with full jitter; after `offlineBannerMs` offline the
 * page is told to show its banner.
 *
 * The same client serves the other pages' feeds (counter app, rating tablet,
 * ticket tracking), whose messages skip events that do not concern them:
 *   gaps: false         no sequence-gap detection; every message other than
 *                       a snapshot or a heartbeat goes to onMessage
 *   snapshotTypes: [..] message types that count as a (fresh) snapshot;
 *                       default ["snapshot"] (the tracking feed: ["ticket"])
 *   fatalCodes: [..]    close codes after which the client stops for good
 *                       (e.g. 4401/4403/4404: not allowed, not found);
 *                       onFatal({code, reason}) tells the page
 * onClose({code, reason, opened}) reports every closed socket.
 *
 * No DOM here: everything outside (WebSocket, timers, clock, randomness) can
 * be injected, so the logic is testable.
 */
(function (global) {
  "use strict";

  function MotcuaLive(opts) {
    this.opts = opts;
    this.url = opts.url;
    this.WS = opts.WebSocket || global.WebSocket;
    this.now = opts.now || function () { return Date.now(); };
    this.random = opts.random || Math.random;
    this.setTimeout = opts.setTimeout || global.setTimeout.bind(global);
    this.clearTimeout = opts.clearTimeout || global.clearTimeout.bind(global);
    this.heartbeatMs = opts.heartbeatMs || 10000;
    this.deadMs = opts.deadMs || 35000;         // no message at all for this long: reconnect
    this.syncTimeoutMs = opts.syncTimeoutMs || 5000;      // open socket without a snapshot
    this.connectTimeoutMs = opts.connectTimeoutMs || 10000; // socket that never opens
    this.backoffBaseMs = opts.backoffBaseMs || 500;
    this.backoffMaxMs = opts.backoffMaxMs || 15000;
    this.offlineBannerMs = opts.offlineBannerMs || 5000;
    this.gaps = opts.gaps !== false;
    this.snapshotTypes = opts.snapshotTypes || ["snapshot"];
    this.fatalCodes = opts.fatalCodes || [];
    this.fatal = null;                 // {code, reason} once the server said "stop"
    this.ws = null;
    this.lastSeq = 0;
    this.synced = false;
    this.attempts = 0;
    this.online = false;
    this.offlineSince = this.now();
    this.lastMessageAt = 0;
    this.stats = { connects: 0, snapshots: 0, events: 0, gaps: 0, resyncs: 0, pings: 0, pongs: 0, reconnects: 0, delays: [] };
    this._hb = null;
    this._retry = null;
    this._banner = null;
    this._syncTimer = null;
    this._stopped = false;
    this.bannerShown = false;
  }

  MotcuaLive.prototype.start = function () {
    this._stopped = false;
    this.fatal = null;
    this._armBanner();
    this._connect();
    return this;
  };

  MotcuaLive.prototype.stop = function () {
    this._stopped = true;
    this._clearTimers();
    if (this.ws) { try { this.ws.close(); } catch (e) { /* closed */ } }
  };

  // Drop the current socket (if any) and connect again now, e.g. with a new
  // URL after a language change; no backoff, the server is fine.
  MotcuaLive.prototype.reconnect = function () {
    var ws = this.ws;
    this.ws = null;
    this._stopped = false;
    this.fatal = null;
    if (this._retry) { this.clearTimeout(this._retry); this._retry = null; }
    if (this._hb) { this.clearTimeout(this._hb); this._hb = null; }
    if (this._syncTimer) { this.clearTimeout(this._syncTimer); this._syncTimer = null; }
    if (ws) { try { ws.close(); } catch (e) { /* closed */ } }
    this.attempts = 0;
    this._connect();
    return this;
  };

  MotcuaLive.prototype._emit = function (name, arg) {
    var f = this.opts[name];
    if (typeof f === "function") {
      try { f(arg, this); } catch (e) { if (global.console) console.error(e); }
    }
  };

  MotcuaLive.prototype._clearTimers = function () {
    if (this._hb) { this.clearTimeout(this._hb); this._hb = null; }
    if (this._retry) { this.clearTimeout(this._retry); this._retry = null; }
    if (this._banner) { this.clearTimeout(this._banner); this._banner = null; }
    if (this._syncTimer) { this.clearTimeout(this._syncTimer); this._syncTimer = null; }
  };

  MotcuaLive.prototype._connect = function () {
    var self = this;
    if (this._stopped) return;
    var url = typeof this.url === "function" ? this.url() : this.url;
    var ws;
    this.synced = false;
    this.stats.connects++;
    try {
      ws = new this.WS(url);
    } catch (e) {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.lastMessageAt = this.now();
    this._armSyncTimeout(this.connectTimeoutMs);
    var opened = false;
    ws.onopen = function () {
      if (self.ws !== ws) return;
      opened = true;
      self.lastMessageAt = self.now();
      self._armHeartbeat();
      self._armSyncTimeout();
    };
    ws.onmessage = function (ev) {
      if (self.ws !== ws) return;
      self._onMessage(ev.data);
    };
    ws.onclose = function (ev) {
      if (self.ws !== ws) return;
      self.ws = null;
      var info = { code: ev && ev.code, reason: (ev && ev.reason) || "", opened: opened };
      self._emit("onClose", info);
      if (self._stopped) return;        // onClose may have stopped us
      if (info.code && self.fatalCodes.indexOf(info.code) >= 0) {
        self._stopped = true;
        self._clearTimers();
        self.fatal = { code: info.code, reason: info.reason };
        self._setOnline(false);
        if (self._banner) { self.clearTimeout(self._banner); self._banner = null; }
        self._emit("onFatal", self.fatal);
        return;
      }
      self._scheduleReconnect();
    };
    ws.onerror = function () { /* onclose follows */ };
  };

  MotcuaLive.prototype._send = function (obj) {
    if (this.ws && this.ws.readyState === 1) {
      try { this.ws.send(JSON.stringify(obj)); return true; } catch (e) { return false; }
    }
    return false;
  };

  MotcuaLive.prototype._setOnline = function (on) {
    if (on === this.online) return;
    this.online = on;
    if (on) {
      this.attempts = 0;
      if (this._banner) { this.clearTimeout(this._banner); this._banner = null; }
      this.bannerShown = false;
      this._emit("onStatus", "online");
    } else {
      this.offlineSince = this.now();
      this._armBanner();
      this._emit("onStatus", "offline");
    }
  };

  MotcuaLive.prototype._armBanner = function () {
    var self = this;
    if (this._banner || this.online) return;
    this._banner = this.setTimeout(function () {
      self._banner = null;
      if (!self.online) {
        self.bannerShown = true;
        self.stats.bannerAfterMs = self.now() - self.offlineSince;
        self._emit("onStatus", "banner");
      }
    }, this.offlineBannerMs);
  };

  MotcuaLive.prototype._armHeartbeat = function () {
    var self = this;
    if (this._hb) this.clearTimeout(this._hb);
    this._hb = this.setTimeout(function tick() {
      self._hb = null;
      if (!self.ws) return;
      if (self.now() - self.lastMessageAt > self.deadMs) {
        self._drop("heartbeat");
        return;
      }
      if (self._send({ type: "ping" })) self.stats.pings++;
      self._hb = self.setTimeout(tick, self.heartbeatMs);
    }, this.heartbeatMs);
  };

  MotcuaLive.prototype._armSyncTimeout = function (ms) {
    var self = this;
    if (this._syncTimer) this.clearTimeout(this._syncTimer);
    this._syncTimer = this.setTimeout(function () {
      self._syncTimer = null;
      if (!self.synced) self._drop("sync-timeout");
    }, ms || this.syncTimeoutMs);
  };

  // Close a socket we no longer trust; onclose schedules the reconnect.
  MotcuaLive.prototype._drop = function (why) {
    var ws = this.ws;
    this.ws = null;
    if (ws) { try { ws.close(); } catch (e) { /* closed */ } }
    this._emit("onDrop", why);
    this._scheduleReconnect();
  };

  MotcuaLive.prototype.backoffDelay = function (attempt) {
    var cap = Math.min(this.backoffMaxMs, this.backoffBaseMs * Math.pow(2, attempt));
    // "equal jitter": never less than half the step, never in lockstep with other boards
    return Math.round(cap / 2 + this.random() * cap / 2);
  };

  MotcuaLive.prototype._scheduleReconnect = function () {
    var self = this;
    if (this._stopped || this._retry) return;
    if (this._hb) { this.clearTimeout(this._hb); this._hb = null; }
    if (this._syncTimer) { this.clearTimeout(this._syncTimer); this._syncTimer = null; }
    this._setOnline(false);
    var delay = this.backoffDelay(this.attempts);
    this.attempts++;
    this.stats.reconnects++;
    this.stats.delays.push(delay);
    if (this.stats.delays.length > 50) this.stats.delays.shift();
    this._retry = this.setTimeout(function () {
      self._retry = null;
      self._connect();
    }, delay);
  };

  MotcuaLive.prototype.requestSync = function () {
    this.synced = false;
    this.stats.resyncs++;
    if (this._send({ type: "sync" })) this._armSyncTimeout();
    else this._drop("sync-send");
  };

  MotcuaLive.prototype._onMessage = function (raw) {
    var msg;
    this.lastMessageAt = this.now();
    try { msg = JSON.parse(raw); } catch (e) { return; }
    if (!msg || typeof msg !== "object") return;
    if (msg.type !== "ping" && msg.type !== "pong" && this.snapshotTypes.indexOf(msg.type) >= 0) {
      this._onSnapshot(msg);
      return;
    }
    switch (msg.type) {
      case "ping":
        this._send({ type: "pong" });
        break;
      case "pong":
        this.stats.pongs++;
        break;
      case "event":
        if (this.gaps) { this._onEvent(msg); break; }
        /* falls through */
      default:
        if (!this.gaps) {
          this.stats.events++;
          this._emit("onMessage", msg);
        }
        break;
    }
  };

  MotcuaLive.prototype._onSnapshot = function (msg) {
    var prev = this.lastSeq;
    this.lastSeq = Number(msg.seq) || 0;
    this.synced = true;
    this.stats.snapshots++;
    if (this._syncTimer) { this.clearTimeout(this._syncTimer); this._syncTimer = null; }
    this._setOnline(true);
    this._emit("onSnapshot", { board: msg, previousSeq: prev });
  };

  // A message carries one event, or a run of consecutive events
  // (msg.from .. msg.seq) sharing one board.
  MotcuaLive.prototype._onEvent = function (msg) {
    if (!this.synced) return;                      // a snapshot is on its way
    var seq = Number(msg.seq);
    if (!isFinite(seq)) return;
    var first = msg.from !== undefined && msg.from !== null ? Number(msg.from) : seq;
    if (!isFinite(first) || first > seq) first = seq;
    if (seq <= this.lastSeq) {
      // Older than our snapshot: already included. Unless the server's own
      // counter went backwards (the site was reset): then start over.
      var boardSeq = msg.board ? Number(msg.board.seq) : NaN;
      if (isFinite(boardSeq) && boardSeq < this.lastSeq) {
        this.stats.gaps++;
        this.requestSync();
      }
      return;
    }
    if (first > this.lastSeq + 1) {
      this.stats.gaps++;
      this._emit("onGap", { expected: this.lastSeq + 1, got: first });
      this.requestSync();
      return;
    }
    msg.previousSeq = this.lastSeq;
    this.lastSeq = seq;
    this.stats.events++;
    this._emit("onEvent", msg);
  };

  global.MotcuaLive = MotcuaLive;
})(typeof window !== "undefined" ? window : this);
