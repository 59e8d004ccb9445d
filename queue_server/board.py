"""The display board's snapshot: counters, recent calls and waiting counts.

Public data only: ticket numbers, never names or phone numbers.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from queue_server.domain.announce import VoiceSettings, announcement, settings_from_hash
from queue_server.domain.eta import estimate_wait_minutes
from queue_server.store.queue import QueueStore


async def snapshot(store: QueueStore, recent: int = 8) -> dict[str, Any]:
    cfg = await store.config.get()
    seq = await store.last_seq()
    states = await store.counter_states(cfg)
    counts = await store.waiting_counts(cfg)
    direct = await store.counter_queue_counts(cfg)
    avgs = await store.averages(cfg)
    calls = await store.recent_calls(recent)
    settings = await store.redis.hgetall(store.keys.settings)
    settings = {k.decode(): v.decode() for k, v in settings.items()}
    names = {c.code: c.name for c in cfg.categories}
    names_en = {c.code: c.name_en for c in cfg.categories}
    counters = []
    for s in states:
        counters.append({
            "counter": s["counter"], "name": s["name"], "status": s["status"],
            "number": s["number"], "category": s["category"],
            "category_name": names.get(s["category"] or "", None),
            "called_at": s["called_at"],
        })
    waiting = []
    for c in cfg.categories:
        if not c.enabled and not counts.get(c.code):
            continue
        serving = [ct for ct in cfg.counters if ct.enabled and c.code in ct.categories]
        open_ = [ct for ct in serving if any(s["counter"] == ct.number and s["status"] == "open" for s in states)]
        n = counts.get(c.code, 0)
        waiting.append({
            "category": c.code, "prefix": c.prefix, "name": c.name, "name_en": c.name_en, "count": n,
            "eta_minutes": estimate_wait_minutes(n, avgs[c.code], len(open_) or len(serving)),
        })
    total = sum(counts.values()) + sum(direct.values())
    voice = settings_from_hash(settings)
    for call in calls:
        call["category_name"] = names.get(call.get("category"), "")
        call["category_name_en"] = names_en.get(call.get("category"), "")
        said = announcement({**call, "type": call.get("type") or "call"}, voice)
        if said is not None:
            call["text"], call["speech"] = said["text"], said["speech"]
    return {
        "type": "snapshot",
        "seq": seq,
        "now": int(time.time() * 1000),
        "site": {"id": cfg.site.id, "name": cfg.site.name, "name_en": cfg.site.name_en, "timezone": cfg.site.timezone},
        "counters": counters,
        "recent": calls,
        "waiting": waiting,
        "waiting_total": total,
        "seats": cfg.site.seats,
        "full": cfg.site.seats > 0 and total >= cfg.site.seats,
        "notice": settings.get("notice", cfg.site.notice),
        "voice": {**{k[6:]: v for k, v in settings.items() if k.startswith("voice.")},
                  **voice.to_dict()},
    }


class BoardFeed:
    """Builds one board message per event, shared by every socket of this
    process (5,000 displays cost one snapshot, not 5,000)."""

    def __init__(self, store: QueueStore):
        self._store = store
        self._lock = asyncio.Lock()
        self._key: object = None
        self._text = ""

    async def message(self, event: dict[str, Any]) -> str:
        # stream_id is unique per logged event: a sequence number seen again
        # (after a site reset) never gets an old board
        key = (event.get("seq"), event.get("type"), event.get("stream_id"))
        if key == self._key:
            return self._text
        async with self._lock:
            if key != self._key:
                board = await snapshot(self._store)
                payload = {"type": "event", "seq": event.get("seq"), "event": event, "board": board}
                v = board["voice"]
                said = announcement(event, VoiceSettings(muted=v["muted"], volume=v["volume"],
                                                         reading=v["reading"], template=v["template"]))
                if said is not None:
                    payload["announce"] = said
                self._text = json.dumps(payload, ensure_ascii=False)
                self._key = key
        return self._text
