"""The event log against its declared schema (queue_server/domain/events.py).

Every script that emits is driven against the real Redis; then every entry
of the stream must carry exactly fields its type declares (with values of
the declared form), and every field declared for a type must have been
emitted at least once in the run. A field added on either side alone fails.
"""

from __future__ import annotations

import pytest

from queue_server.domain.events import EVENT_TYPES, SCHEMA, decode, parse, text_fields
from queue_server.domain.model import CounterStatus, EventType, TicketStatus
from queue_server.domain.room import RoomRules, room_state
from queue_server.domain.sites import SiteEntry
from queue_server.errors import AppError
from queue_server.store.appointments import OtpHold
from queue_server.store.display_settings import DisplaySettings
from queue_server.store.events import decode_event
from queue_server.store.room import RoomStore
from queue_server.store.sites import SiteRegistry
from tests.helpers import Clock, appointment_store, make_slot, make_store, run_sync, test_config_dict

MIN = 60_000


async def drive_every_emitter(s, clock) -> None:
    """One run through every script and Python caller that appends an event."""
    a, _ = await s.issue("HT", device="kiosk1")  # issue
    b, _ = await s.issue("HT", priority=True, clerk="sup")  # staff issue a walk-in
    c, _ = await s.issue("CT", rank_ms=clock.now + 30 * MIN)
    d, _ = await s.issue("HT")
    room = RoomStore(s.redis, s.keys, s.scripts, s)
    state = room_state(RoomRules(), 10, 11, 0, 1.0, 0.5)
    await room.send_away(d, clock.now + 40 * MIN, state)  # come_back
    await room.give_phone(d.id, "+84912345678", device="kiosk1")  # ticket_phone
    await room.claim_notice(d.id, 3)  # turn_notice
    clock.advance(2 * MIN)
    await s.call_next(1, clerk="lan")  # call (b, priority)
    await s.recall(1, clerk="lan")  # recall
    clock.advance(3 * MIN)
    await s.finish(1, TicketStatus.DONE, clerk="lan")  # done
    await s.rate(b.id, 2, via="track")  # rating
    await s.call_ticket(2, a.id, clerk="minh")  # call (out of order)
    await s.finish(2, TicketStatus.NO_SHOW, clerk="minh")  # no_show
    await s.requeue(a.id, clerk="minh")  # requeue
    await s.call_next(1, clerk="lan")  # call a
    await s.transfer(1, to_category="CT", clerk="lan")  # transfer to a category
    await s.call_next(3, clerk="hoa")  # a again, now at CT
    await s.transfer(3, to_counter=5, clerk="hoa")  # transfer to a counter
    await s.call_next(5)
    clock.advance(MIN)
    await s.call_next(5)  # done (implicit) + call
    await s.set_counter_status(4, CounterStatus.PAUSED, clerk="tuan")  # pause
    await s.set_counter_status(4, CounterStatus.OPEN, clerk="tuan")  # resume
    await s.config.put(test_config_dict(s.keys.site), actor="admin")  # config
    await DisplaySettings(s.redis, s.keys, s.scripts).put({"notice": "Nghỉ trưa"}, "admin")  # notice
    await SiteRegistry(s.redis, s.keys, s.scripts).add(SiteEntry(id="b-schema", name="Phường B"), "tinh")  # site_add
    await s.close_day("system")  # expire
    appts = appointment_store(s, clock)
    slot = make_slot(clock.now + 3 * 3600_000)
    booked = await appts.book(
        slot, "HT", name="Nguyễn Văn An", phone="+84912345678", per_phone=2, keep_personal_days=30
    )  # appointment_book
    await appts.move(
        booked.appointment.id,
        make_slot(slot.start_ms + 15 * MIN),
        token=booked.token,
        per_phone=2,
        keep_personal_days=30,
        before_ms=60 * MIN,
        hold_ms=5 * MIN,
    )  # appointment_move
    await appts.cancel(booked.appointment.id, token=None, clerk="sup", before_ms=60 * MIN, hold_ms=0)  # cancel
    missed = await appts.book(
        make_slot(clock.now + 2 * 3600_000), "CT", name="B", phone="+84912000002", per_phone=2, keep_personal_days=30
    )
    coming = await appts.book(
        make_slot(clock.now + 3 * 3600_000), "HT", name="C", phone="+84912000003", per_phone=2, keep_personal_days=30
    )
    clock.advance(3 * 3600_000 - 10 * MIN)
    await appts.check_in(
        coming.appointment, prefix="A", day=missed.appointment.day, early_ms=30 * MIN, late_ms=15 * MIN, device="k1"
    )  # appointment_checkin (and its ticket's issue)
    await appts.sweep_no_shows(missed.appointment.day, late_ms=15 * MIN)  # appointment_no_show
    held_slot = make_slot(clock.now + 5 * 3600_000)
    held = await appts.book(
        held_slot,
        "HT",
        name="D",
        phone="+84912000004",
        per_phone=2,
        keep_personal_days=30,
        otp=OtpHold("123456", clock.now + 5 * MIN),
    )  # appointment_hold
    await appts.verify(held.appointment.id, "123456", per_phone=2, max_tries=5)  # verify_appointment: book
    lapsed = await appts.book(
        held_slot, "HT", name="E", phone="+84912000005", per_phone=2, keep_personal_days=30, otp=OtpHold("654321", 1)
    )
    with pytest.raises(AppError, match="otp_expired"):  # appointment_release (expired)
        await appts.verify(lapsed.appointment.id, "654321", per_phone=2, max_tries=5)
    clock.advance(40 * 24 * 3600_000)
    assert await appts.forget_personal(30) > 0  # forget_appointments.lua (emits nothing)
    del c, d


def test_every_emitted_field_is_declared_and_every_declared_field_is_emitted(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        await drive_every_emitter(s, clock)
        rows = await s.redis.xrange(s.keys.events)
        seen: dict[str, set[str]] = {t: set() for t in SCHEMA}
        for sid, raw in rows:
            f = text_fields(raw)
            etype = f["type"]
            assert etype in SCHEMA, f"event type {etype!r} is not declared in domain/events.py"
            undeclared = set(f) - set(SCHEMA[etype])
            assert not undeclared, f"{etype}: emitted but not declared: {sorted(undeclared)}"
            missing = set(SCHEMA[etype]) - set(f)
            assert not missing, f"{etype}: declared but not in this entry: {sorted(missing)}"
            rec = parse(raw)  # every value has its declared form
            assert type(rec) is EVENT_TYPES[etype] and rec.type == etype
            seen[etype] |= set(f)
            # decode_event keeps its shape: ints for integer fields, the rest as text
            e = decode_event(sid, raw)
            assert isinstance(e["seq"], int) and isinstance(e["ts"], int)
            assert e["id"] == (sid.decode() if isinstance(sid, bytes) else sid)
            if "priority" in f:
                assert e["priority"] in ("0", "1")
        for etype, declared in SCHEMA.items():
            assert seen[etype], f"no {etype!r} event in the run: drive its script in drive_every_emitter"
            assert seen[etype] == set(declared), (
                f"{etype}: declared but never emitted: {sorted(set(declared) - seen[etype])}"
            )
        # some values, through the typed decoder
        evs = [decode(f) for _, f in rows]
        call = next(e for e in evs if e["type"] == "call")
        assert call["priority"] is True and call["counter"] == 1 and call["wait_ms"] == 2 * MIN
        issue, by_staff = [e for e in evs if e["type"] == "issue"][:2]
        # the kiosk's device id is its own field, never the clerk (issue #13 item 10)
        assert issue["counter"] is None and issue["ahead"] == 0
        assert (issue["clerk"], issue["device"]) == ("", "kiosk1")
        assert (by_staff["clerk"], by_staff["device"]) == ("sup", "")
        to_cat, to_ctr = [e for e in evs if e["type"] == "transfer"]
        assert (to_cat["to_category"], to_cat["to_counter"], to_cat["from_counter"]) == ("CT", None, 1)
        assert (to_ctr["to_category"], to_ctr["to_counter"], to_ctr["from_counter"]) == (None, 5, 3)
        rating = next(e for e in evs if e["type"] == "rating")
        assert (rating["level"], rating["scale"], rating["via"]) == (2, 3, "track")
        await s.redis.aclose()

    run_sync(go())


def test_declared_types_are_event_types():
    assert set(SCHEMA) <= {str(t) for t in EventType}
    for etype, spec in SCHEMA.items():
        assert {"type", "seq", "ts"} <= set(spec)
        assert all(f.doc for f in spec.values()), etype


def test_decode_accepts_bytes_and_str_and_is_strict_on_request():
    raw = {
        "type": "recall",
        "seq": "7",
        "ts": "100",
        "ticket": "x",
        "number": "A001",
        "category": "HT",
        "counter": "2",
        "clerk": "",
        "priority": "1",
        "source": "walk_in",
        "calls": "2",
    }
    as_bytes = {k.encode(): v.encode() for k, v in raw.items()}
    assert decode(raw) == decode(as_bytes)
    assert decode(raw)["priority"] is True and decode(raw)["counter"] == 2
    assert decode_event(b"1-0", as_bytes) == decode_event("1-0", raw)
    assert decode_event("1-0", raw)["calls"] == 2 and decode_event("1-0", raw)["priority"] == "1"
    import pytest

    from queue_server.domain.events import EventDecodeError

    with pytest.raises(EventDecodeError):
        decode(raw | {"stray": "1"}, strict=True)
    assert decode(raw | {"stray": "1"})["stray"] == "1"
    with pytest.raises(EventDecodeError):
        decode({k: v for k, v in raw.items() if k != "calls"}, strict=True)
    with pytest.raises(EventDecodeError):
        decode(raw | {"priority": "true"}, strict=True)
