"""The notifiers on the real Redis and a real RQ worker: the outbox writes
a file per message and reads the latest back; sms_http and zalo_zns send
from an RQ job (retried) to a local fake gateway that checks the request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

from redis import Redis as SyncRedis

from queue_server.adapters.jobs import PRIVATE_FAILURE_TTL_S, RqJobQueue
from queue_server.adapters.notify import ConfiguredNotifier, Outbox
from queue_server.domain.config import parse_config
from queue_server.domain.notify import Message
from tests.fake_gateway import FakeGateway
from tests.helpers import make_store, run_sync, test_config_dict

PHONE = "+84987650321"


def run_worker(redis_url: str) -> str:
    """A real `motcua worker --burst`; its log."""
    done = subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    return done.stdout + done.stderr


def send(redis_url, tmp_path, notify: dict, messages: list[Message]) -> Outbox:
    d = test_config_dict()
    d["notify"] = notify

    async def run():
        s = await make_store(redis_url, parse_config(d))
        outbox = Outbox(tmp_path / "outbox")
        notifier = ConfiguredNotifier(s.config, outbox, RqJobQueue(redis_url))
        try:
            for m in messages:
                await notifier.send(m)
        finally:
            await s.redis.aclose()

    run_sync(run())
    return Outbox(tmp_path / "outbox")


def test_outbox_writes_a_file_per_message_and_reads_the_latest(redis_url, tmp_path):
    msgs = [Message(PHONE, f"Mã xác nhận lịch hẹn: {i}", "otp", ref=f"b{i}") for i in range(3)]
    outbox = send(redis_url, tmp_path, {}, msgs)
    files = sorted(os.listdir(tmp_path / "outbox"))
    assert len(files) == 3 and all(f.endswith(".json") for f in files)
    assert oct(os.stat(tmp_path / "outbox" / files[0]).st_mode & 0o777) == "0o600"
    first = json.loads((tmp_path / "outbox" / files[0]).read_text("utf-8"))
    assert first["to"] == PHONE and first["kind"] == "otp" and first["text"].endswith(": 0")
    assert first["created"].endswith("Z") and first["created_at"] > 0
    latest = run_sync(outbox.latest(2))
    assert [m["ref"] for m in latest] == ["b2", "b1"]
    assert run_sync(outbox.prune(first["created_at"] + 1)) >= 1
    assert "b0" not in [m["ref"] for m in run_sync(outbox.latest(10))]


def test_sms_http_sends_from_a_worker_with_the_template_and_retries(redis_url, tmp_path):
    with FakeGateway(replies=[(503, {"busy": True}), (200, {"ok": True})]) as gw:
        notify = {
            "channel": "sms_http",
            "sms_url": gw.url + "/send",
            "sms_auth_header": "Authorization: Bearer s3cret",
            "sms_body_template": '{"phone": "{phone}", "content": "{text}", "brand": "MOTCUA"}',
            "retry_intervals": [0, 0],
        }
        text = 'Mã xác nhận lịch hẹn: 482913. "Hiệu lực" 5 phút.'
        send(redis_url, tmp_path, notify, [Message(PHONE, text, "otp")])
        log = run_worker(redis_url)
    assert len(gw.seen) == 2  # refused once, retried once
    req = gw.seen[-1]
    assert req.path == "/send"
    assert req.headers["authorization"] == "Bearer s3cret"
    assert req.headers["content-type"] == "application/json"
    assert req.json() == {"phone": "84987650321", "content": text, "brand": "MOTCUA"}
    assert not (tmp_path / "outbox").exists()  # sent by SMS, not written
    assert "0987650321" not in log and "987650321" not in log and "482913" not in log and "s3cret" not in log
    assert rq_jobs_holding(redis_url, "987650321", "s3cret") == []  # the sent job is gone with its arguments


def rq_jobs_holding(redis_url: str, *secrets: str) -> list[tuple[str, int]]:
    """The RQ job hashes whose arguments hold any of `secrets`, with their TTL (s)."""
    r = SyncRedis.from_url(redis_url)
    try:
        out = []
        for key in r.scan_iter(match="rq:job:*"):
            if r.type(key) != b"hash":
                continue
            data = r.hget(key, "data") or b""
            try:
                data = zlib.decompress(data)  # as RQ stores it
            except zlib.error:
                pass
            if any(s.encode() in data for s in secrets):
                out.append((key.decode(), r.ttl(key)))
        return out
    finally:
        r.close()


def test_a_notice_that_failed_for_good_keeps_its_phone_an_hour_not_days(redis_url, tmp_path):
    with FakeGateway(replies=[(503, {}), (503, {})]) as gw:
        notify = {
            "channel": "sms_http",
            "sms_url": gw.url + "/send",
            "sms_auth_header": "Authorization: Bearer t0psecret",
            "sms_body_template": '{"phone": "{phone}", "content": "{text}"}',
            "retry_intervals": [0],
        }
        send(redis_url, tmp_path, notify, [Message("+84987650999", "Nhắc lịch hẹn", "reminder")])
        run_worker(redis_url)
    assert len(gw.seen) == 2  # tried, retried, failed for good
    kept = rq_jobs_holding(redis_url, "987650999", "t0psecret")
    assert len(kept) == 1 and 0 < kept[0][1] <= PRIVATE_FAILURE_TTL_S, kept


def test_zalo_zns_posts_the_template_message(redis_url, tmp_path):
    with FakeGateway(replies=[(200, {"error": 0, "message": "Success", "data": {"msg_id": "1"}})]) as gw:
        notify = {
            "channel": "zalo_zns",
            "zns_url": gw.url + "/message/template",
            "zns_access_token": "zalo-token",
            "zns_templates": {"confirmation": "231445"},
            "retry_intervals": [0],
        }
        m = Message(
            "0987650321",
            "Lịch hẹn K7M2QX",
            "confirmation",
            data={"code": "K7M2QX", "time": "08:15 02/12/2026", "place": "UBND xã"},
            ref="bk1",
        )
        # a kind without a template is not lost: it goes to the outbox
        outbox = send(redis_url, tmp_path, notify, [m, Message(PHONE, "Nhắc", "reminder")])
        run_worker(redis_url)
    assert len(gw.seen) == 1
    req = gw.seen[0]
    assert req.path == "/message/template"
    assert req.headers["access_token"] == "zalo-token"
    assert req.json() == {
        "phone": "84987650321",
        "template_id": "231445",
        "template_data": {"code": "K7M2QX", "time": "08:15 02/12/2026", "place": "UBND xã"},
        "tracking_id": "bk1-confirmation",
    }
    assert [x["kind"] for x in run_sync(outbox.latest(5))] == ["reminder"]


def test_zns_error_reply_is_retried(redis_url, tmp_path):
    with FakeGateway(replies=[(200, {"error": -124, "message": "token expired"}), (200, {"error": 0})]) as gw:
        notify = {
            "channel": "zalo_zns",
            "zns_url": gw.url + "/t",
            "zns_access_token": "zalo-token",
            "zns_templates": {"otp": "9"},
            "retry_intervals": [0],
        }
        send(redis_url, tmp_path, notify, [Message(PHONE, "x", "otp", data={"otp": "123456"})])
        run_worker(redis_url)
    assert len(gw.seen) == 2
