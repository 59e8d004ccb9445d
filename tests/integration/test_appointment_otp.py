"""verify = "otp" on the real Redis with a moved clock (issue #10): a booking
is held (pending_otp) for the 6-digit code sent through the notifier, and
booked by it; the hold counts against the slot, the hour and the phone cap;
5 wrong codes or a code after 5 minutes release it; codes are throttled per
phone; parallel bookers and verifiers never overbook. The record keeps only
a digest of the code."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest

from queue_server.domain.config import parse_config
from queue_server.errors import AppError
from queue_server.services.appointments import AppointmentService
from queue_server.services.notify import SentLog
from queue_server.store.audit import AuditLog
from queue_server.store.ratelimit import RateLimiter
from tests.helpers import Clock, appointment_store, make_store, run_sync, test_config_dict

MIN = 60_000
SLOT = "2026-12-01T08:00:00+07:00"


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def otp_service(redis_url, body, *, capacity=2, per_phone=2, now="2026-12-01T06:00:00+07:00"):
    async def run():
        d = test_config_dict()
        d["appointments"] |= {"enabled": True, "verify": "otp", "per_phone_per_day": per_phone}
        d["categories"][0]["appointment_capacity"] = capacity
        clock = Clock(ms(now))
        s = await make_store(redis_url, parse_config(d), clock=clock)
        sent = SentLog([])
        svc = AppointmentService(
            s.config,
            appointment_store(s, clock),
            AuditLog(s.redis, s.keys),
            s,
            None,
            clock=lambda: datetime.fromtimestamp(clock.now / 1000, UTC),
            notifier=sent,
            limiter=RateLimiter(s.redis, s.scripts, s.keys),
        )
        try:
            await body(svc, clock, sent, s)
        finally:
            await s.redis.aclose()

    run_sync(run())


def code_of(sent: SentLog, appointment_id: str) -> str:
    m = [x for x in sent.sent if x.ref == appointment_id and x.kind == "otp"][-1]
    found = re.search(r"\b(\d{6})\b", m.text)
    assert found and m.data["otp"] == found[1]
    return found[1]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_held_booking_is_booked_by_its_code_and_confirmed(redis_url):
    async def body(svc, clock, sent, s):
        r = await svc.book("HT", SLOT, "Nguyễn Văn An", "0912 345 678")
        assert r.status == "pending_otp" and "token=" in r.manage_url
        otp = code_of(sent, r.id)
        assert sent.sent[0].to == "+84912345678" and "Nguyễn" not in sent.sent[0].text
        rec = await s.redis.hgetall(s.keys.appointment(r.id))
        assert otp not in str(rec)  # a digest, never the code
        slot = (await svc.slots("HT", "2026-12-01")).slots[2]
        assert slot.start == SLOT and slot.available == 1  # the hold takes a place
        clock.advance(4 * MIN)
        ok = await svc.verify(r.id, otp)
        assert ok.status == "booked" and ok.manage_url == r.manage_url and ok.code == r.code
        confirm = [m for m in sent.sent if m.kind == "confirmation"]
        assert len(confirm) == 1 and r.code in confirm[0].text and r.manage_url in confirm[0].text
        assert "08:00" in confirm[0].text and "Nguyễn" not in confirm[0].text
        assert (await svc.verify(r.id, otp)).status == "booked"  # again: the same answer, no second notice
        assert len([m for m in sent.sent if m.kind == "confirmation"]) == 1
        assert (await svc.slots("HT", "2026-12-01")).slots[2].available == 1
        types = [f["type"] for _, f in await s.redis.xrange(s.keys.events)]
        assert types.count("appointment_hold") == 1 and types.count("appointment_book") == 1

    otp_service(redis_url, body)


def test_english_booking_gets_english_notices(redis_url):
    async def body(svc, clock, sent, s):
        r = await svc.book("HT", SLOT, "An", "0912345678", lang="en")
        assert "confirmation code" in sent.sent[-1].text and sent.sent[-1].lang == "en"
        await svc.verify(r.id, code_of(sent, r.id))
        assert sent.sent[-1].text.startswith("Booking ")

    otp_service(redis_url, body)


def test_five_wrong_codes_release_the_hold(redis_url):
    async def body(svc, clock, sent, s):
        r = await svc.book("HT", SLOT, "An", "0912345678")
        otp = code_of(sent, r.id)
        for left in (4, 3, 2, 1):
            with pytest.raises(AppError) as e:
                await svc.verify(r.id, wrong(otp))
            assert e.value.code == "invalid_otp" and e.value.params["tries_left"] == left
        with pytest.raises(AppError) as e:
            await svc.verify(r.id, wrong(otp))
        assert e.value.code == "invalid_otp" and e.value.params["tries_left"] == 0
        with pytest.raises(AppError) as e:
            await svc.verify(r.id, otp)  # the right code, too late now
        assert e.value.code == "appointment_not_booked"
        assert (await svc.slots("HT", "2026-12-01")).slots[2].available == 2
        assert (await svc.store.get(r.id)).status == "expired"

    otp_service(redis_url, body)


def test_a_code_after_five_minutes_finds_the_place_released(redis_url):
    async def body(svc, clock, sent, s):
        r = await svc.book("HT", SLOT, "An", "0912345678")
        otp = code_of(sent, r.id)
        clock.advance(5 * MIN)
        assert (await svc.slots("HT", "2026-12-01")).slots[2].available == 2  # lapsed, back on sale
        with pytest.raises(AppError) as e:
            await svc.verify(r.id, otp)
        assert e.value.code == "otp_expired"
        with pytest.raises(AppError) as e:
            await svc.verify("nope", otp)
        assert e.value.code == "appointment_not_found"
        with pytest.raises(AppError) as e:
            await svc.verify(r.id, "12ab56")
        assert e.value.code == "invalid_body"

    otp_service(redis_url, body)


def test_holds_count_against_capacity_and_the_phone_cap(redis_url):
    async def body(svc, clock, sent, s):
        a = await svc.book("HT", SLOT, "An", "0912000001")
        await svc.book("HT", SLOT, "Bình", "0912000002")
        with pytest.raises(AppError) as e:
            await svc.book("HT", SLOT, "Chi", "0912000003")
        assert e.value.code == "slot_full"
        await svc.book("HT", "2026-12-01T09:00:00+07:00", "An", "0912000001")
        with pytest.raises(AppError) as e:  # two holds of one phone: its cap
            await svc.book("HT", "2026-12-01T10:00:00+07:00", "An", "0912000001")
        assert e.value.code == "phone_limit"
        await svc.verify(a.id, code_of(sent, a.id))
        clock.advance(5 * MIN)  # the other holds lapse
        await svc.book("HT", SLOT, "Chi", "0912000003")
        await svc.book("HT", "2026-12-01T10:00:00+07:00", "An", "0912000001")

    otp_service(redis_url, body)


def test_codes_are_throttled_per_phone(redis_url):
    async def body(svc, clock, sent, s):
        for _ in range(5):
            clock.advance(5 * MIN)  # each hold lapses before the next
            await svc.book("HT", SLOT, "An", "0912000009")
        with pytest.raises(AppError) as e:
            await svc.book("HT", SLOT, "An", "0912000009")
        assert e.value.code == "rate_limited"
        await svc.book("HT", SLOT, "Bình", "0912000008")  # another phone is not held back

    otp_service(redis_url, body, capacity=10, per_phone=10)


def test_racing_bookers_and_verifiers_never_overbook(redis_url):
    async def body(svc, clock, sent, s):
        async def try_book(i):
            try:
                return await svc.book("HT", SLOT, "Công dân", f"09130{i:05d}")
            except AppError as e:
                assert e.code == "slot_full"
                return None

        got = [r for r in await asyncio.gather(*(try_book(i) for i in range(24))) if r]
        assert len(got) == 3
        # the three verify at once while 24 more try; then the holds have become bookings
        late = asyncio.gather(*(try_book(100 + i) for i in range(24)))
        oks = await asyncio.gather(*(svc.verify(r.id, code_of(sent, r.id)) for r in got))
        assert not [r for r in await late if r]
        assert [o.status for o in oks] == ["booked"] * 3
        assert await s.redis.scard(s.keys.appointment_slot("HT", "202612010800")) == 3
        clock.advance(10 * MIN)
        assert (await svc.slots("HT", "2026-12-01")).slots[2].available == 0

    otp_service(redis_url, body, capacity=3)


def test_one_phone_racing_for_holds_gets_at_most_its_cap(redis_url):
    async def body(svc, clock, sent, s):
        starts = [f"2026-12-01T{h:02d}:{m:02d}:00+07:00" for h in (8, 9) for m in (0, 15, 30, 45)]

        async def try_book(start):
            try:
                return await svc.book("HT", start, "An", "0912000077")
            except AppError as e:
                assert e.code in ("phone_limit", "rate_limited")  # 8 tries: the send throttle may refuse some
                return None

        got = [r for r in await asyncio.gather(*(try_book(x) for x in starts)) if r]
        assert len(got) == 2
        assert (
            await s.redis.zcard(s.keys.appointment_phone_pending("20261201", svc.store.phone_key("+84912000077"))) == 2
        )

    otp_service(redis_url, body, capacity=5, per_phone=2)
