"""The notifiers: `Outbox` (each message a JSON file under the data dir, the
default), and `ConfiguredNotifier`, which sends each message through the
channel the live configuration names ([notify] channel): the outbox, an
HTTP SMS gateway or Zalo ZNS. An HTTP send is an RQ job
(`queue_server.jobs.deliver_http`) retried after each of `retry_intervals`.

Nothing here logs a phone or a message's text."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

from queue_server.domain.notify import Message, NotifyConfig, fill_template, sms_values, zns_body
from queue_server.services.notify import JobQueue
from queue_server.store.config_store import ConfigStore

log = logging.getLogger("motcua.notify")

DELIVER_JOB = "queue_server.jobs.deliver_http"


class Outbox:
    """Messages as files `<ns>-<random>.json` ({to, text, kind, lang, ref, created_at (ms), created
    (ISO, UTC)}) in `directory`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._last_ns = 0

    def _write(self, m: Message) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        ns = max(time.time_ns(), self._last_ns + 1)  # names sort in the order written
        self._last_ns = ns
        now = ns / 1e9
        ms = ns // 1_000_000
        record = {
            "to": m.to,
            "text": m.text,
            "kind": m.kind,
            "lang": m.lang,
            "ref": m.ref,
            "created_at": ms,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        }
        path = self.directory / f"{ns:020d}-{secrets.token_hex(4)}.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds a phone number
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, path)
        return path

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._write, message)

    def _latest(self, limit: int) -> list[dict[str, Any]]:
        if not self.directory.is_dir():
            return []
        names = sorted((p for p in os.listdir(self.directory) if p.endswith(".json")), reverse=True)
        out = []
        for name in names[:limit]:
            try:
                out.append(json.loads((self.directory / name).read_text("utf-8")))
            except (OSError, ValueError):
                continue  # pruned meanwhile
        return out

    async def latest(self, limit: int) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._latest, limit)

    def _prune(self, before_ms: int) -> int:
        if not self.directory.is_dir():
            return 0
        gone = 0
        for name in os.listdir(self.directory):
            stem = name.split("-", 1)[0]
            if stem.isdigit() and int(stem) // 1_000_000 < before_ms:
                (self.directory / name).unlink(missing_ok=True)
                gone += 1
        return gone

    async def prune(self, before_ms: int) -> int:
        """Delete the messages written before `before_ms` (they hold phones); how many."""
        return await asyncio.to_thread(self._prune, before_ms)


def sms_request(n: NotifyConfig, m: Message) -> dict[str, Any]:
    headers = {"Content-Type": n.sms_content_type}
    if n.sms_auth_header:
        name, _, value = n.sms_auth_header.partition(":")
        headers[name.strip()] = value.strip()
    return {
        "url": n.sms_url,
        "headers": headers,
        "content": fill_template(n.sms_body_template, n.sms_content_type, sms_values(m)),
        "kind": m.kind,
        "zalo": False,
    }


def zns_request(n: NotifyConfig, m: Message, template_id: str) -> dict[str, Any]:
    return {
        "url": n.zns_url,
        "headers": {"Content-Type": "application/json", "access_token": n.zns_access_token},
        "content": json.dumps(zns_body(m, template_id), ensure_ascii=False),
        "kind": m.kind,
        "zalo": True,
    }


class ConfiguredNotifier:
    def __init__(self, config: ConfigStore, outbox: Outbox, jobs: JobQueue | None):
        self.config = config
        self.outbox = outbox
        self.jobs = jobs

    async def send(self, message: Message) -> None:
        try:
            await self._send(message)
        except Exception:  # a notice must never fail the booking it follows
            log.exception("notice %s not sent", message.kind)

    async def _send(self, m: Message) -> None:
        n = (await self.config.get()).notify
        request: dict[str, Any] | None = None
        if n.channel == "sms_http":
            request = sms_request(n, m)
        elif n.channel == "zalo_zns":
            template = n.zns_templates.get(m.kind)
            if template:
                request = zns_request(n, m, template)
            else:
                log.warning("no ZNS template for %s messages: written to the outbox", m.kind)
        if request is None or self.jobs is None:
            await self.outbox.send(m)
            return
        # the request holds the phone and the gateway's secret: not kept once sent
        await self.jobs.enqueue(DELIVER_JOB, request, retry_intervals=n.retry_intervals, private=True)
