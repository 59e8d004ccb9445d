/* motcua display: the announcement queue.
 *
 * Calls are spoken one after another, never overlapping: a chime, then the
 * phrase. The voice is the browser's Web Speech API with a vi-VN voice when
 * there is one; otherwise the server's offline espeak-ng audio
 * (/api/voice?text=...); if that is unavailable too, the chime and the
 * on-screen caption remain. Never a cloud TTS.
 */
(function (global) {
  "use strict";

  function withTimeout(promise, ms) {
    return new Promise(function (resolve) {
      var done = false;
      var t = setTimeout(function () { if (!done) { done = true; resolve("timeout"); } }, ms);
      promise.then(function (v) {
        if (!done) { done = true; clearTimeout(t); resolve(v); }
      }, function () {
        if (!done) { done = true; clearTimeout(t); resolve("error"); }
      });
    });
  }

  function findViVoice() {
    var synth = global.speechSynthesis;
    if (!synth || typeof synth.getVoices !== "function") return null;
    var voices = synth.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      var lang = String(voices[i].lang || "").toLowerCase().replace("_", "-");
      if (lang === "vi-vn" || lang === "vi") return voices[i];
    }
    return null;
  }

  function Announcer(opts) {
    this.opts = opts || {};
    this.queue = [];
    this.busy = false;
    this.current = null;
    this.log = [];              // what was played, for the status line and tests
    this.settings = { muted: false, volume: 100 };
    this.onBlocked = this.opts.onBlocked || function () {};
  }

  Announcer.prototype.configure = function (voice) {
    if (!voice) return;
    if (typeof voice.muted === "boolean") this.settings.muted = voice.muted;
    if (typeof voice.volume === "number") this.settings.volume = Math.max(0, Math.min(100, voice.volume));
  };

  Announcer.prototype.enqueue = function (item) {
    this.queue.push(item);
    this._pump();
  };

  Announcer.prototype._pump = function () {
    var self = this;
    if (this.busy) return;
    var item = this.queue.shift();
    if (!item) { this.current = null; return; }
    this.busy = true;
    this.current = item;
    this.log.push({ seq: item.seq, type: item.type, number: item.number, counter: item.counter, text: item.text });
    if (this.log.length > 50) this.log.shift();
    if (this.opts.onStart) this.opts.onStart(item);
    this._play(item).then(function () {
      self.busy = false;
      if (self.opts.onEnd) self.opts.onEnd(item);
      self._pump();
    });
  };

  Announcer.prototype._play = function (item) {
    var self = this;
    if (this.settings.muted) {
      // no sound, but keep the caption up for a moment so calls do not flash by
      return new Promise(function (r) { setTimeout(r, self.opts.mutedHoldMs || 2500); });
    }
    return this.chime().then(function () { return self.speak(item); });
  };

  Announcer.prototype._audio = function (src, maxMs) {
    var self = this;
    var audio = new global.Audio();
    audio.volume = this.settings.volume / 100;
    audio.src = src;
    return withTimeout(new Promise(function (resolve, reject) {
      audio.addEventListener("ended", function () { resolve("ended"); });
      audio.addEventListener("error", function () { reject(new Error("audio error")); });
      var p;
      try { p = audio.play(); } catch (e) { reject(e); return; }
      if (p && typeof p.then === "function") {
        p.then(null, function (e) {
          if (e && e.name === "NotAllowedError") self.onBlocked();
          reject(e);
        });
      }
    }), maxMs);
  };

  Announcer.prototype.chime = function () {
    return this._audio(this.opts.chimeUrl || "/display/static/chime.wav", 4000);
  };

  Announcer.prototype.speak = function (item) {
    var text = item.speech || item.text;
    var voice = findViVoice();
    if (voice && typeof global.SpeechSynthesisUtterance === "function") {
      var synth = global.speechSynthesis;
      var u = new global.SpeechSynthesisUtterance(text);
      u.lang = "vi-VN";
      u.voice = voice;
      u.rate = 0.9;
      u.volume = this.settings.volume / 100;
      var p = new Promise(function (resolve) {
        u.onend = function () { resolve("ended"); };
        u.onerror = function () { resolve("error"); };
      });
      synth.speak(u);
      return withTimeout(p, 4000 + 150 * text.length);
    }
    if (this.opts.voiceUrl) {
      return this._audio(this.opts.voiceUrl(text), 4000 + 150 * text.length);
    }
    return Promise.resolve("no-voice");
  };

  Announcer.findViVoice = findViVoice;
  global.MotcuaAnnouncer = Announcer;
})(typeof window !== "undefined" ? window : this);
