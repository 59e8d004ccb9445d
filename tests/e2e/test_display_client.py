"""The board's connection logic (display/live.js) in real Chromium, driven
with an injected fake WebSocket, a fake clock and fake timers: backoff with
jitter, the 5 s offline banner, heartbeat and dead-socket detection, gap
detection, stale events and a site reset."""

from __future__ import annotations

from importlib import resources

import pytest

pytestmark = pytest.mark.browser

HARNESS = """
window.H = (() => {
  let now = 0, nextId = 1;
  const timers = new Map();
  const sockets = [];
  const statuses = [];
  const events = [];
  const snapshots = [];
  class FakeWS {
    constructor(url) { this.url = url; this.readyState = 0; this.sent = []; sockets.push(this); }
    send(t) { this.sent.push(JSON.parse(t)); }
    close() { if (this.readyState === 3) return; this.readyState = 3; setTimeout(() => this.onclose && this.onclose({}), 0); }
    open() { this.readyState = 1; this.onopen && this.onopen({}); }
    msg(o) { this.onmessage && this.onmessage({ data: JSON.stringify(o) }); }
    serverClose() { this.readyState = 3; this.onclose && this.onclose({}); }
  }
  const setT = (fn, ms) => { const id = nextId++; timers.set(id, { at: now + ms, fn }); return id; };
  const clearT = (id) => timers.delete(id);
  function advance(ms) {
    const end = now + ms;
    for (;;) {
      let best = null;
      for (const [id, t] of timers) if (t.at <= end && (!best || t.at < best[1].at)) best = [id, t];
      if (!best) break;
      timers.delete(best[0]);
      now = best[1].at;
      best[1].fn();
    }
    now = end;
  }
  let rnd = [];
  function make(opts) {
    return new MotcuaLive(Object.assign({
      url: () => 'ws://board', WebSocket: FakeWS, now: () => now, setTimeout: setT, clearTimeout: clearT,
      random: () => (rnd.length ? rnd.shift() : 0.5),
      onStatus: (s) => statuses.push([now, s]), onEvent: (m) => events.push(m.seq),
      onSnapshot: (s) => snapshots.push([s.board.seq, s.previousSeq]),
    }, opts || {}));
  }
  // the server is down: every new connection attempt is refused
  function down(ms) {
    const end = now + ms;
    while (now < end) {
      for (const ws of sockets) if (ws.readyState === 0) ws.serverClose();
      advance(Math.min(10, end - now));
    }
  }
  function waitNew() {
    const n = sockets.length, end = now + 60000;
    while (sockets.length === n && now < end) advance(10);
    return sockets[sockets.length - 1];
  }
  return { make, advance, down, waitNew, sockets, statuses, events, snapshots, get now() { return now; },
           setRandom: (xs) => { rnd = xs.slice(); }, last: () => sockets[sockets.length - 1] };
})();
"""


@pytest.fixture
def js(page):
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(content=resources.files("display").joinpath("live.js").read_text("utf-8"))
    page.add_script_tag(content=HARNESS)
    return page


def test_snapshot_events_and_gap_resync(js):
    r = js.evaluate("""() => {
      const L = H.make(); L.start();
      const ws = H.last(); ws.open();
      ws.msg({type: 'snapshot', seq: 10});
      ws.msg({type: 'event', seq: 11, board: {seq: 11}});
      ws.msg({type: 'event', seq: 11, board: {seq: 11}});     // duplicate: ignored
      ws.msg({type: 'event', seq: 9, board: {seq: 12}});      // older than the snapshot: ignored
      ws.msg({type: 'event', seq: 14, board: {seq: 14}});     // 12 and 13 lost: gap
      const afterGap = ws.sent.slice();
      ws.msg({type: 'event', seq: 15, board: {seq: 15}});     // ignored until the snapshot arrives
      ws.msg({type: 'snapshot', seq: 15});
      ws.msg({type: 'event', seq: 16, board: {seq: 16}});
      return {events: H.events, snapshots: H.snapshots, afterGap, stats: L.stats, lastSeq: L.lastSeq};
    }""")
    assert r["events"] == [11, 16]
    assert r["afterGap"] == [{"type": "sync"}]
    assert r["snapshots"] == [[10, 0], [15, 11]]
    assert r["stats"]["gaps"] == 1 and r["stats"]["resyncs"] == 1 and r["lastSeq"] == 16


def test_server_counter_reset_forces_resync(js):
    r = js.evaluate("""() => {
      const L = H.make(); L.start(); const ws = H.last(); ws.open();
      ws.msg({type: 'snapshot', seq: 50});
      ws.msg({type: 'event', seq: 1, board: {seq: 1}});       // the site's log started over
      return {sent: ws.sent, events: H.events};
    }""")
    assert r["sent"] == [{"type": "sync"}] and r["events"] == []


def test_sync_that_never_answers_reconnects(js):
    r = js.evaluate("""() => {
      const L = H.make({syncTimeoutMs: 5000}); L.start(); const ws = H.last(); ws.open();
      ws.msg({type: 'snapshot', seq: 1});
      ws.msg({type: 'event', seq: 5, board: {seq: 5}});
      H.advance(4999); const before = H.sockets.length;
      H.advance(2); H.advance(1000);
      return {before, after: H.sockets.length, closed: ws.readyState};
    }""")
    assert r["before"] == 1 and r["after"] == 2 and r["closed"] == 3


def test_backoff_is_exponential_with_jitter_and_capped(js):
    r = js.evaluate("""() => {
      const L = H.make({backoffBaseMs: 500, backoffMaxMs: 8000}); L.start();
      H.setRandom([0, 1, 0.5, 0.25, 0.999, 0, 1, 0.5]);
      const opened = [];
      for (let i = 0; i < 8; i++) {
        const ws = H.last(); ws.serverClose();                 // connection refused
        const t0 = H.now;
        H.waitNew();
        opened.push(H.now - t0);
      }
      return {delays: L.stats.delays, opened};
    }""")
    caps = [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]
    rnd = [0, 1, 0.5, 0.25, 0.999, 0, 1, 0.5]
    for d, cap, x in zip(r["delays"], caps, rnd, strict=False):
        assert cap / 2 <= d <= cap
        assert d == round(cap / 2 + x * cap / 2)
    assert len(set(r["delays"][4:])) > 1  # jitter: not in lockstep at the cap
    assert all(abs(o - d) <= 10 for o, d in zip(r["opened"], r["delays"], strict=False))


def test_offline_banner_only_after_5_seconds_and_cleared_on_snapshot(js):
    r = js.evaluate("""() => {
      const L = H.make(); L.start(); let ws = H.last(); ws.open(); ws.msg({type: 'snapshot', seq: 3});
      H.advance(1000);
      ws.serverClose();                                       // server gone
      H.down(4990);
      const early = L.bannerShown;
      H.down(20);
      const shown = L.bannerShown, shownAfter = L.stats.bannerAfterMs;
      H.down(3000);
      // the server comes back: the next attempt succeeds
      ws = H.waitNew(); ws.open(); ws.msg({type: 'snapshot', seq: 7});
      // a short blip (under 5 s) never shows the banner
      ws.serverClose();
      ws = H.waitNew(); ws.open(); ws.msg({type: 'snapshot', seq: 7});
      H.advance(10000);
      return {early, shown, shownAfter, statuses: H.statuses.map(s => s[1]), banners: H.statuses.filter(s => s[1] === 'banner').length,
              online: L.online, attempts: L.attempts};
    }""")
    assert r["early"] is False and r["shown"] is True and r["shownAfter"] >= 5000
    assert r["statuses"][:3] == ["online", "offline", "banner"] and r["statuses"][3] == "online"
    assert r["banners"] == 1 and r["online"] is True and r["attempts"] == 0


def test_first_connection_failing_shows_banner_after_5_seconds(js):
    r = js.evaluate("""() => {
      const L = H.make(); L.start();
      H.last().serverClose();
      H.down(4900); const early = L.bannerShown;
      H.down(200);
      return {early, late: L.bannerShown};
    }""")
    assert r == {"early": False, "late": True}


def test_connection_attempt_that_hangs_is_abandoned(js):
    r = js.evaluate("""() => {
      const L = H.make({connectTimeoutMs: 10000}); L.start();
      H.advance(9990); const before = H.sockets.length;
      H.advance(20); H.waitNew();
      return {before, after: H.sockets.length, first: H.sockets[0].readyState};
    }""")
    assert r == {"before": 1, "after": 2, "first": 3}


def test_heartbeat_pings_and_dead_socket_detection(js):
    r = js.evaluate("""() => {
      const L = H.make({heartbeatMs: 1000, deadMs: 3500}); L.start(); const ws = H.last(); ws.open();
      ws.msg({type: 'snapshot', seq: 1});
      H.advance(1000); H.advance(1000);
      const pings = ws.sent.filter(m => m.type === 'ping').length;
      ws.msg({type: 'pong'});
      ws.msg({type: 'ping'});                                 // the server's heartbeat: answered
      const answered = ws.sent[ws.sent.length - 1];
      // now the server goes silent (half-open TCP): no message at all
      H.advance(3000); const stillOpen = ws.readyState;
      H.advance(2000);
      return {pings, answered, stillOpen, closed: ws.readyState, sockets: H.sockets.length, pongs: L.stats.pongs};
    }""")
    assert r["pings"] == 2 and r["pongs"] == 1 and r["answered"] == {"type": "pong"}
    assert r["stillOpen"] == 1 and r["closed"] == 3
    assert r["sockets"] == 2  # reconnected after the dead socket


def test_runs_of_events_in_one_message(js):
    r = js.evaluate("""() => {
      const L = H.make(); L.start(); const ws = H.last(); ws.open();
      ws.msg({type: 'snapshot', seq: 10});
      ws.msg({type: 'event', from: 11, seq: 12, board: {seq: 12}});   // done + call together
      ws.msg({type: 'event', from: 12, seq: 13, board: {seq: 13}});   // overlaps what we have: fine
      const before = ws.sent.length;
      ws.msg({type: 'event', from: 15, seq: 16, board: {seq: 16}});   // 14 missing: gap
      return {events: H.events, sentAfter: ws.sent.slice(before), lastSeq: L.lastSeq, gaps: L.stats.gaps};
    }""")
    assert r["events"] == [12, 13] and r["lastSeq"] == 13
    assert r["sentAfter"] == [{"type": "sync"}] and r["gaps"] == 1


# -- the other pages' feeds (counter app, rating tablet, tracking) -------------------


def test_feed_without_gap_detection_passes_every_message(js):
    r = js.evaluate("""() => {
      const got = [];
      const L = H.make({gaps: false, onMessage: (m) => got.push([m.type, m.seq])}); L.start();
      const ws = H.last(); ws.open();
      ws.msg({type: 'snapshot', seq: 10});
      ws.msg({type: 'rate', ticket: 'x'});                        // no seq at all
      ws.msg({type: 'event', seq: 14});                          // 11..13 skipped by the server: no gap
      ws.msg({type: 'event', seq: 14});
      ws.msg({type: 'ping'});
      ws.msg({type: 'snapshot', seq: 20});                       // a fresh snapshot (config change)
      return {got, sent: ws.sent, snapshots: H.snapshots, gaps: L.stats.gaps, online: L.online};
    }""")
    assert r["got"] == [["rate", None], ["event", 14], ["event", 14]]
    assert r["sent"] == [{"type": "pong"}]  # no sync asked for
    assert r["snapshots"] == [[10, 0], [20, 10]] and r["gaps"] == 0 and r["online"] is True


def test_snapshot_types_for_the_tracking_feed(js):
    r = js.evaluate("""() => {
      const L = H.make({gaps: false, snapshotTypes: ['ticket'], syncTimeoutMs: 5000}); L.start();
      const ws = H.last(); ws.open();
      ws.msg({type: 'ticket', status: 'waiting'});               // the first view counts as the snapshot
      H.advance(6000);                                           // so no sync timeout
      ws.msg({type: 'ticket', status: 'called'});
      return {n: H.snapshots.length, online: L.online, sockets: H.sockets.length};
    }""")
    assert r == {"n": 2, "online": True, "sockets": 1}


def test_fatal_close_codes_stop_reconnecting(js):
    r = js.evaluate("""() => {
      const fatal = [], closes = [];
      const L = H.make({gaps: false, fatalCodes: [4401, 4403, 4404], onFatal: (f) => fatal.push(f.code),
                        onClose: (c) => closes.push([c.code, c.opened])});
      L.start(); let ws = H.last(); ws.open(); ws.msg({type: 'snapshot', seq: 1});
      ws.readyState = 3; ws.onclose({code: 1012});               // a restart: reconnect
      ws = H.waitNew(); ws.open(); ws.msg({type: 'snapshot', seq: 1});
      ws.readyState = 3; ws.onclose({code: 4403, reason: 'counter forbidden'});
      const n = H.sockets.length;
      H.advance(120000);
      return {fatal, closes, more: H.sockets.length - n, info: L.fatal, statuses: H.statuses.map((s) => s[1])};
    }""")
    assert r["fatal"] == [4403] and r["more"] == 0
    assert r["closes"] == [[1012, True], [4403, True]]
    assert r["info"] == {"code": 4403, "reason": "counter forbidden"}
    assert "banner" not in r["statuses"] and r["statuses"][-1] == "offline"


def test_reconnect_now_uses_the_new_url(js):
    r = js.evaluate("""() => {
      let lang = 'vi';
      const L = H.make({gaps: false, url: () => 'ws://x?lang=' + lang}); L.start();
      const first = H.last(); first.open(); first.msg({type: 'snapshot', seq: 1});
      lang = 'en'; L.reconnect();
      const second = H.last();
      H.advance(10);                                             // the old socket's close is ignored
      return {urls: H.sockets.map((s) => s.url), closed: first.readyState, count: H.sockets.length,
              reconnects: L.stats.reconnects};
    }""")
    assert r["urls"] == ["ws://x?lang=vi", "ws://x?lang=en"] and r["closed"] == 3
    assert r["count"] == 2 and r["reconnects"] == 0
