"""AppointmentStore and its Lua scripts on the real Redis (issue #10): the
capacity, the hour's budget and the per-phone cap held atomically, the
Idempotency-Key, codes, the manage token kept as a digest, personal data
apart and out of the events, cancel and move with the place held back."""

from __future__ import annotations

import asyncio

import pytest

from queue_server.domain.appointments import CODE_ALPHABET, AppointmentStatus
from queue_server.errors import AppError
from queue_server.store import appointments as appointments_module
from queue_server.store.appointments import token_digest
from tests.helpers import Clock, appointment_store, make_slot, make_store, run_sync

MIN = 60_000
HOUR = 60 * MIN
PHONE = "+84912345678"


def go(redis_url, body):
    async def run():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        try:
            await body(s, appointment_store(s, clock), clock)
        finally:
            await s.redis.aclose()

    run_sync(run())


def book(appts, slot, phone=PHONE, category="HT", idem=None, per_phone=2, name="Nguyễn Văn An"):
    return appts.book(slot, category, name=name, phone=phone, per_phone=per_phone, keep_personal_days=30, idem=idem)


async def code_of(coro):
    try:
        await coro
    except AppError as e:
        return e.code
    return None


def test_a_booking_has_a_code_a_token_digest_and_its_personal_data_apart(redis_url):
    async def body(s, appts, clock):
        slot = make_slot(clock.now + 3 * HOUR)
        b = await book(appts, slot)
        a = b.appointment
        assert a.status == AppointmentStatus.BOOKED and a.category == "HT" and a.start_ms == slot.start_ms
        assert len(a.code) == 6 and set(a.code) <= set(CODE_ALPHABET)
        assert not set(a.code) & set("0O1IL")
        assert a.token_digest == token_digest(b.token) and b.token not in a.token_digest
        record = await s.redis.hgetall(s.keys.appointment(a.id))
        assert "name" not in record and "phone" not in record
        assert PHONE not in str(record) and "Nguyễn" not in str(record) and b.token not in str(record)
        pii = await appts.personal(a.id)
        assert (pii.name, pii.phone) == ("Nguyễn Văn An", PHONE)
        ttl = await s.redis.pttl(s.keys.appointment_personal(a.id))
        assert abs(ttl - (3 * HOUR + 30 * 24 * HOUR)) < 60_000  # keep_personal_days after the slot
        assert (await appts.by_code(a.code)).id == a.id
        # nothing personal in the event stream, nor in any key name
        events = await s.redis.xrange(s.keys.events)
        assert [f["type"] for _, f in events] == ["appointment_book"]
        assert events[0][1]["appointment"] == a.id
        assert not any(PHONE[3:] in v or "Nguyễn" in v for _, f in events for v in f.values())
        keys = [k async for k in s.redis.scan_iter(match=f"mc:{{{s.keys.site}}}:*")]
        assert not any(PHONE[3:] in k for k in keys)

    go(redis_url, body)


def test_capacity_and_the_hours_budget(redis_url):
    async def body(s, appts, clock):
        start = clock.now + 3 * HOUR
        a = make_slot(start, capacity=2, hour_budget=3)
        b = make_slot(start + 15 * MIN, capacity=2, hour_budget=3)
        await book(appts, a, "+84912000001")
        await book(appts, a, "+84912000002")
        assert await code_of(book(appts, a, "+84912000003")) == "slot_full"
        await book(appts, b, "+84912000004")  # the hour's third place
        assert await code_of(book(appts, b, "+84912000005")) == "slot_full"  # the hour is spent
        places = await appts.places("HT", [a, b])
        assert (places[a.key].slot, places[a.key].hour, places[b.key].slot) == (2, 3, 1)
        # another category's budget is its own
        await book(appts, a, "+84912000006", category="CT")

    go(redis_url, body)


def test_the_phone_cap_counts_every_category_of_the_day(redis_url):
    async def body(s, appts, clock):
        start = clock.now + 3 * HOUR
        await book(appts, make_slot(start), category="HT")
        await book(appts, make_slot(start + 15 * MIN), category="CT")
        err = None
        try:
            await book(appts, make_slot(start + 30 * MIN), category="DD")
        except AppError as e:
            err = e
        assert err is not None and err.code == "phone_limit" and err.params == {"limit": 2}
        await book(appts, make_slot(start + 24 * HOUR))  # the next day is another day
        await book(appts, make_slot(start + 30 * MIN), phone="+84912999999")  # another phone

    go(redis_url, body)


def test_parallel_bookings_never_overbook(redis_url):
    async def body(s, appts, clock):
        slot = make_slot(clock.now + 3 * HOUR, capacity=3, hour_budget=10)
        results = await asyncio.gather(
            *(code_of(book(appts, slot, f"+849120000{i:02d}")) for i in range(24)), return_exceptions=True
        )
        assert results.count(None) == 3 and results.count("slot_full") == 21
        assert await s.redis.scard(s.keys.appointment_slot("HT", slot.key)) == 3

    go(redis_url, body)


def test_one_idempotency_key_is_one_booking(redis_url):
    async def body(s, appts, clock):
        slot = make_slot(clock.now + 3 * HOUR, capacity=5)
        first = await book(appts, slot, idem="key-1")
        again = await book(appts, slot, idem="key-1")
        assert again.replayed and not first.replayed
        assert again.appointment.id == first.appointment.id and again.token == first.token
        # the stored reply does not give the token away
        stored = await s.redis.get(appts._idem_key("key-1"))
        assert first.token not in stored
        burst = await asyncio.gather(*(book(appts, slot, idem="key-2") for _ in range(10)))
        assert len({b.appointment.id for b in burst}) == 1 and len({b.token for b in burst}) == 1
        assert await s.redis.scard(s.keys.appointment_slot("HT", slot.key)) == 2

    go(redis_url, body)


def test_codes_are_unique_per_site(redis_url, monkeypatch):
    async def body(s, appts, clock):
        picks = iter(["AAAAAA"] * 4 + ["AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD"] + ["AAAAAA"] * 4)
        monkeypatch.setattr(appointments_module, "new_code", lambda: next(picks))
        slot = make_slot(clock.now + 3 * HOUR, capacity=5)
        a = await book(appts, slot, "+84912000001")
        b = await book(appts, slot, "+84912000002")
        assert (a.appointment.code, b.appointment.code) == ("AAAAAA", "BBBBBB")
        assert await code_of(book(appts, slot, "+84912000003")) == "conflict"
        assert await s.redis.scard(s.keys.appointment_slot("HT", slot.key)) == 2

    go(redis_url, body)


def cancel(appts, b, token="", clerk="", hold=5 * MIN):
    return appts.cancel(
        b.appointment.id, token=b.token if token == "" else token, clerk=clerk, before_ms=60 * MIN, hold_ms=hold
    )


def test_cancel_by_token_holds_the_place_back_for_a_while(redis_url):
    async def body(s, appts, clock):
        slot = make_slot(clock.now + 3 * HOUR, capacity=1)
        b = await book(appts, slot)
        assert await code_of(cancel(appts, b, token="wrong")) == "appointment_not_found"
        done = await cancel(appts, b)
        assert done.status == AppointmentStatus.CANCELLED
        assert await code_of(cancel(appts, b)) == "appointment_not_booked"
        # the place returns to sale after the delay, not at once
        assert await code_of(book(appts, slot, "+84912000002")) == "slot_full"
        assert (await appts.places("HT", [slot]))[slot.key].slot == 1
        clock.advance(5 * MIN)
        assert (await appts.places("HT", [slot]))[slot.key].slot == 0
        await book(appts, slot, "+84912000002")
        # the phone's place of the day is free again
        await book(appts, make_slot(slot.start_ms + 15 * MIN))
        await book(appts, make_slot(slot.start_ms + 30 * MIN))
        evs = [f for _, f in await s.redis.xrange(s.keys.events) if f["type"] == "appointment_cancel"]
        assert len(evs) == 1 and evs[0]["clerk"] == "" and evs[0]["appointment"] == b.appointment.id

    go(redis_url, body)


def test_cancel_closes_before_the_slot_except_for_staff(redis_url):
    async def body(s, appts, clock):
        slot = make_slot(clock.now + 3 * HOUR)
        b = await book(appts, slot)
        clock.advance(2 * HOUR)  # 60 minutes before: closed
        err = None
        try:
            await cancel(appts, b)
        except AppError as e:
            err = e
        assert err is not None and err.code == "change_closed" and err.params == {"minutes": 60}
        staff = await cancel(appts, b, token=None, clerk="sup")
        assert staff.status == AppointmentStatus.CANCELLED and staff.cancelled_by == "sup"

    go(redis_url, body)


def move(appts, b, to, token=""):
    return appts.move(
        b.appointment.id,
        to,
        token=b.token if token == "" else token,
        per_phone=2,
        keep_personal_days=30,
        before_ms=60 * MIN,
        hold_ms=5 * MIN,
    )


def test_move_checks_the_new_slot_and_holds_the_old_place(redis_url):
    async def body(s, appts, clock):
        start = clock.now + 3 * HOUR
        a = make_slot(start, capacity=1, hour_budget=10)
        full = make_slot(start + 15 * MIN, capacity=1)
        free = make_slot(start + 30 * MIN, capacity=1)
        b = await book(appts, a)
        await book(appts, full, "+84912000002")
        assert await code_of(move(appts, b, free, token="wrong")) == "appointment_not_found"
        assert await code_of(move(appts, b, full)) == "slot_full"
        moved = await move(appts, b, free)
        assert moved.start_ms == free.start_ms and moved.status == AppointmentStatus.BOOKED
        assert await s.redis.sismember(s.keys.appointment_slot("HT", free.key), b.appointment.id)
        assert not await s.redis.sismember(s.keys.appointment_slot("HT", a.key), b.appointment.id)
        assert await code_of(book(appts, a, "+84912000003")) == "slot_full"  # held back
        clock.advance(5 * MIN)
        await book(appts, a, "+84912000003")
        ev = [f for _, f in await s.redis.xrange(s.keys.events) if f["type"] == "appointment_move"][0]
        assert (int(ev["from_start"]), int(ev["start"])) == (a.start_ms, free.start_ms)
        # a move to another day counts against that day's cap
        other_day = start + 24 * HOUR
        await book(appts, make_slot(other_day), category="CT")
        await book(appts, make_slot(other_day + 15 * MIN), category="DD")
        assert await code_of(move(appts, b, make_slot(other_day + 30 * MIN))) == "phone_limit"
        clock.advance(3 * HOUR)
        assert await code_of(move(appts, b, make_slot(other_day + 45 * MIN))) == "change_closed"

    go(redis_url, body)


def test_a_day_lists_its_bookings_with_personal_data(redis_url):
    async def body(s, appts, clock):
        slot = make_slot(clock.now + 3 * HOUR)
        b = await book(appts, slot)
        rows = await appts.day(b.appointment.day)
        assert [(a.id, p.phone) for a, p in rows] == [(b.appointment.id, PHONE)]

    go(redis_url, body)


@pytest.mark.parametrize("missing", ["", "nope"])
def test_unknown_bookings(redis_url, missing):
    async def body(s, appts, clock):
        assert await code_of(appts.get(missing)) == "appointment_not_found"
        assert await code_of(appts.by_code("ZZZZZZ")) == "appointment_not_found"

    go(redis_url, body)
