"""The Parquet archive of the event log (store/archive.py, jobs.archive_events):
appended from a checkpoint, idempotent, and the stream trimmed to its window,
never past what is archived. Real Redis, a real RQ worker."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta

import pyarrow.parquet as pq

from queue_server.domain.model import TicketStatus
from queue_server.domain.reports import summarize
from queue_server.jobs import archive_events, queue_for
from queue_server.store.archive import EventArchive
from queue_server.store.scripts import Scripts
from tests.helpers import make_store, run_sync, test_config

DAY_MS = 86_400_000


def archive_of(s, root):
    return EventArchive(s.redis, s.keys, Scripts(s.redis), root)


async def old_story(s, days_ago: int) -> tuple[int, list[str]]:
    """A ticket issued, called and served `days_ago` days ago, written to the
    stream with explicit old ids (the stream is empty: old ids are allowed)."""
    base = int(time.time() * 1000) - days_ago * DAY_MS
    common = {"ticket": "old1", "number": "A001", "category": "HT", "counter": "1", "clerk": "an"}
    common |= {"priority": "0", "source": "walk_in"}
    rows = [
        ({"type": "issue", "seq": "1", "ts": str(base), "ahead": "0", "device": "", **common, "counter": ""}, 0),
        (
            {
                "type": "call",
                "seq": "2",
                "ts": str(base + 600_000),
                "wait_ms": "600000",
                "issued_at": str(base),
                **common,
            },
            1,
        ),
        ({"type": "done", "seq": "3", "ts": str(base + 900_000), "service_ms": "300000", **common}, 2),
    ]
    ids = []
    for fields, i in rows:
        ids.append(await s.redis.xadd(s.keys.events, fields, id=f"{base + i * 300_000}-0"))
    return base, ids


async def recent_story(s):
    a, _ = await s.issue("HT")
    await s.call_next(1, clerk="an")
    await s.finish(1, TicketStatus.DONE, clerk="an")
    await s.issue("CT")
    return a


def run_worker(redis_url):
    subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=60,
        capture_output=True,
    )


def test_archive_job_in_a_real_worker_keeps_the_window_and_the_past_still_answers(redis_url, tmp_path):
    cfg = test_config()
    tz = cfg.site.tz

    async def prepare():
        s = await make_store(redis_url, cfg)
        base, _ = await old_story(s, 40)
        await recent_story(s)
        n = await s.redis.xlen(s.keys.events)
        await s.redis.aclose()
        return base, n

    base, total = run_sync(prepare())
    job = queue_for(redis_url).enqueue(archive_events, redis_url, cfg.site.id, str(tmp_path), 35, False)
    run_worker(redis_url)
    job.refresh()
    assert job.get_status() == "finished", job.exc_info
    assert job.return_value()["archived"] == total
    assert job.return_value()["trimmed"] == 3

    async def check():
        s = await make_store(redis_url, cfg)
        try:
            rows = await s.redis.xrange(s.keys.events)
            cutoff = int(time.time() * 1000) - 35 * DAY_MS
            assert rows and all(int(sid.split("-")[0]) >= cutoff for sid, _ in rows)
            assert len(rows) == total - 3
            arch = archive_of(s, tmp_path)
            old_day = datetime.fromtimestamp(base / 1000, tz).date()
            assert pq.read_table(arch.day_path(old_day)).num_rows == 3
            # the old day's summary answers from the archive alone
            lo = base - 3600_000
            events = await arch.report_events(lo, lo + DAY_MS, tz)
            summary = summarize(events, start=old_day, end=old_day, tz=tz, targets_s={"HT": 900.0})
            assert summary["totals"]["issued"] == 1 and summary["totals"]["served"] == 1
            assert summary["wait_s"]["mean"] == 600.0 and summary["service_s"]["mean"] == 300.0
            assert summary["by_clerk"][0]["clerk"] == "an"
            # and through the reports service: the past quarter, from the archive alone
            from queue_server.bootstrap import build_services, build_stores
            from queue_server.settings import Settings

            svc = build_services(await build_stores(s.redis, cfg, data_dir=tmp_path), Settings())
            q_start = (old_day - timedelta(days=45)).isoformat()
            q = await svc.reports.summary(q_start, (old_day + timedelta(days=30)).isoformat())
            assert q["totals"]["issued"] == 1 and q["totals"]["served"] == 1
            assert q["wait_s"]["mean"] == 600.0 and q["by_counter"][0]["counter"] == 1
        finally:
            await s.redis.aclose()

    run_sync(check())


def test_archive_is_idempotent_after_a_crash_and_appends_from_its_checkpoint(redis_url, tmp_path):
    cfg = test_config()
    tz = cfg.site.tz

    async def go():
        s = await make_store(redis_url, cfg)
        try:
            await recent_story(s)
            arch = archive_of(s, tmp_path)
            # a crash after the files were written, before the checkpoint moved
            from queue_server.store.archive import row_of
            from queue_server.store.connection import entries

            raw = entries(await s.redis.xrange(s.keys.events))
            arch.write_rows([row_of(sid, f) for sid, f in raw], tz)
            assert await arch.checkpoint() == ""
            first = await arch.run(tz, int(time.time() * 1000))
            assert first.archived == 0 and first.checkpoint == raw[-1][0]
            again = await arch.run(tz, int(time.time() * 1000))
            assert again.archived == 0 and again.checkpoint == first.checkpoint
            await s.issue("HT")  # one more event: appended
            third = await arch.run(tz, int(time.time() * 1000))
            assert third.archived == 1
            ids = [r for d in arch.days() for r in pq.read_table(arch.day_path(d)).column("id").to_pylist()]
            assert len(ids) == len(set(ids)) == len(raw) + 1
            # the reader sees each event once: archive and stream tail overlap
            now = int(time.time() * 1000)
            evs = await arch.report_events(now - DAY_MS, now + DAY_MS, tz)
            assert len({e["id"] for e in evs}) == len(evs)
            assert sum(1 for e in evs if e["type"] == "issue") == 3
        finally:
            await s.redis.aclose()

    run_sync(go())


def test_the_trim_never_removes_what_is_not_archived(redis_url, tmp_path):
    cfg = test_config()

    async def go():
        s = await make_store(redis_url, cfg)
        try:
            _, ids = await old_story(s, 50)
            scripts = Scripts(s.redis)
            keys = [s.keys.events, s.keys.archive_checkpoint]
            now = int(time.time() * 1000)
            # nothing archived: the window alone would trim all three; nothing goes
            r = await scripts.run("archive_commit", keys, {"last": "", "cutoff_ms": now})
            assert r["trimmed"] == 0 and await s.redis.xlen(s.keys.events) == 3
            # archived up to the second: only the first goes
            r = await scripts.run("archive_commit", keys, {"last": ids[1], "cutoff_ms": now})
            assert r["trimmed"] == 1 and r["checkpoint"] == ids[1]
            # the checkpoint never moves back
            r = await scripts.run("archive_commit", keys, {"last": ids[0], "cutoff_ms": 0})
            assert r["checkpoint"] == ids[1]
            assert [sid for sid, _ in await s.redis.xrange(s.keys.events)] == ids[1:]
        finally:
            await s.redis.aclose()

    run_sync(go())


def test_close_day_archives_when_given_the_data_dir(redis_url, tmp_path):
    from queue_server.jobs import close_day

    cfg = test_config()

    async def prepare():
        s = await make_store(redis_url, cfg)
        await s.issue("HT")
        await s.redis.aclose()

    run_sync(prepare())
    close_day(redis_url, cfg.site.id, None, False, str(tmp_path))
    today = datetime.now(cfg.site.tz).date()
    files = list((tmp_path / "archive" / cfg.site.id / "events").glob("*.parquet"))
    assert [f.stem for f in files] in ([today.isoformat()], [(today - timedelta(days=1)).isoformat()])
    types = pq.read_table(files[0]).column("type").to_pylist()
    assert types.count("issue") == 1 and types.count("expire") == 1


def test_the_archive_command(redis_url, tmp_path):
    from queue_server.domain.config import load_toml

    cfg = load_toml(None)  # the command's site: the shipped default's

    async def prepare():
        s = await make_store(redis_url, cfg)
        await s.issue("HT")
        await s.redis.aclose()

    run_sync(prepare())
    r = subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "archive", "--redis-url", redis_url, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "events archived" in r.stdout
    files = list((tmp_path / "archive" / cfg.site.id / "events").glob("*.parquet"))
    assert "issue" in {t for f in files for t in pq.read_table(f).column("type").to_pylist()}


def test_two_runs_at_once_lose_nothing(redis_url, tmp_path):
    import asyncio

    cfg = test_config()
    tz = cfg.site.tz

    async def go():
        s = await make_store(redis_url, cfg)
        try:
            for _ in range(30):
                await s.issue("HT")
            now = int(time.time() * 1000)
            a, b = archive_of(s, tmp_path), archive_of(s, tmp_path)
            runs = await asyncio.gather(a.run(tz, now, batch=7), b.run(tz, now, batch=5))
            total = await s.redis.xlen(s.keys.events)
            assert sum(r.archived for r in runs) == total
            ids = [r for d in a.days() for r in pq.read_table(a.day_path(d)).column("id").to_pylist()]
            assert len(ids) == len(set(ids)) == total
        finally:
            await s.redis.aclose()

    run_sync(go())
