"""Personal data is deleted keep_personal_days after the slot (issue #10,
acceptance 5): the store's explicit delete with a moved clock, and the
end-of-day job on a real worker (its outbox messages as old go too). The
booking record never holds the name or the phone, and after the delete not
even the phone's digest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from queue_server.jobs import close_day, queue_for
from tests.helpers import Clock, appointment_store, make_slot, make_store, run_sync, test_config

DAY = 24 * 3600_000
NAME = "Quàng Thị Xyzzy"
PHONE = "+84987001122"


def holds_personal(values) -> bool:
    flat = json.dumps(values, ensure_ascii=False)
    return NAME in flat or "987001122" in flat


def test_the_store_forgets_holders_keep_personal_days_after_the_slot(redis_url):
    async def go():
        clock = Clock(1_767_000_000_000)
        s = await make_store(redis_url, test_config(), clock=clock)
        appts = appointment_store(s, clock)
        old = await appts.book(
            make_slot(clock.now + 2 * 3600_000), "HT", name=NAME, phone=PHONE, per_phone=2, keep_personal_days=60
        )
        later = await appts.book(
            make_slot(clock.now + 3 * DAY), "HT", name="Khác", phone="+84987001123", per_phone=2, keep_personal_days=60
        )
        rec = await s.redis.hgetall(s.keys.appointment(old.appointment.id))
        assert not holds_personal(rec)  # apart from the record from the start
        assert (await appts.personal(old.appointment.id)).name == NAME
        clock.advance(29 * DAY)
        assert await appts.forget_personal(30) == 0  # not yet
        assert (await appts.personal(old.appointment.id)) is not None
        clock.advance(2 * DAY)  # 31 days after the first slot, 28 after the second
        assert await appts.forget_personal(30) == 1
        assert await appts.personal(old.appointment.id) is None
        assert not await s.redis.exists(s.keys.appointment_personal(old.appointment.id))
        rec = await s.redis.hgetall(s.keys.appointment(old.appointment.id))
        assert rec["code"] == old.appointment.code and "phone_key" not in rec and not holds_personal(rec)
        assert (await appts.personal(later.appointment.id)).name == "Khác"
        # its code left the code index (no kiosk finds it); the later booking's stays
        assert await s.redis.hget(s.keys.appointment_codes, old.appointment.code) is None
        assert await s.redis.hget(s.keys.appointment_codes, later.appointment.code) == later.appointment.id
        await s.redis.aclose()

    run_sync(go())


def test_the_end_of_day_job_deletes_them_on_a_real_worker(redis_url, tmp_path):
    cfg = test_config()  # keep_personal_days = 30

    async def prepare():
        s = await make_store(redis_url, cfg)
        appts = appointment_store(s)
        # a slot 31 days ago, its keys kept by Redis for 60: only the job's delete removes them
        b = await appts.book(
            make_slot(int(time.time() * 1000) - 31 * DAY),
            "HT",
            name=NAME,
            phone=PHONE,
            per_phone=2,
            keep_personal_days=60,
        )
        await s.redis.aclose()
        return b.appointment.id

    appointment_id = run_sync(prepare())
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    old_ns = time.time_ns() - 31 * DAY * 1_000_000
    (outbox / f"{old_ns:020d}-aa.json").write_text(json.dumps({"to": PHONE}), "utf-8")
    (outbox / f"{time.time_ns():020d}-bb.json").write_text(json.dumps({"to": "+84987001124"}), "utf-8")
    job = queue_for(redis_url).enqueue(close_day, redis_url, cfg.site.id, None, False)
    subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
        env=dict(os.environ, MOTCUA_DATA_DIR=str(tmp_path)),
    )
    job.refresh()
    assert job.get_status() == "finished", job.exc_info

    async def check():
        s = await make_store(redis_url, cfg)
        assert not await s.redis.exists(s.keys.appointment_personal(appointment_id))
        rec = await s.redis.hgetall(s.keys.appointment(appointment_id))
        assert rec and "phone_key" not in rec and not holds_personal(rec)
        await s.redis.aclose()

    run_sync(check())
    assert [p.name.endswith("-bb.json") for p in outbox.iterdir()] == [True]
