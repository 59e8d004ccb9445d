"""The places a slot shows (domain.slots.places_left over AppointmentStore.places)
against what book_appointment.lua accepts, on random bookings, cancels and
time: a slot that shows a place left takes a booking, one that shows none
refuses it with slot_full."""

from __future__ import annotations

import random

from queue_server.domain.slots import places_left
from queue_server.errors import AppError
from tests.helpers import Clock, appointment_store, make_slot, make_store, run_sync

MIN = 60_000


def test_shown_places_and_the_script_agree(redis_url):
    async def go():
        rng = random.Random(10)
        seen = {"booked": 0, "full": 0, "held": 0}
        for round_ in range(6):
            clock = Clock()
            s = await make_store(redis_url, clock=clock)
            appts = appointment_store(s, clock)
            budget = rng.randint(0, 6)
            start = clock.now + 5 * 60 * MIN
            slots = [make_slot(start + i * 15 * MIN, capacity=rng.randint(0, 4), hour_budget=budget) for i in range(3)]
            live: list = []
            phone = 0
            for _ in range(60):
                op = rng.random()
                if op < 0.6:
                    slot = rng.choice(slots)
                    got = await appts.places("HT", slots)
                    left = places_left(slot, got[slot.key].slot, got[slot.key].hour)
                    phone += 1
                    try:
                        b = await appts.book(
                            slot,
                            "HT",
                            name="X",
                            phone=f"+8491{round_}{phone:06d}",
                            per_phone=2,
                            keep_personal_days=30,
                        )
                        assert left > 0, (round_, slot.key, got)
                        live.append(b)
                        seen["booked"] += 1
                    except AppError as e:
                        assert e.code == "slot_full" and left == 0, (round_, e.code, slot.key, got)
                        seen["full"] += 1
                        seen["held"] += got[slot.key].slot > len(
                            [x for x in live if x.appointment.start_ms == slot.start_ms]
                        )
                elif op < 0.85 and live:
                    b = live.pop(rng.randrange(len(live)))
                    await appts.cancel(
                        b.appointment.id, token=b.token, before_ms=60 * MIN, hold_ms=rng.choice([0, 2 * MIN])
                    )
                else:
                    clock.advance(rng.choice([MIN, 3 * MIN]))
            await s.redis.aclose()
        # both answers, and refusals caused by held-back places, occurred
        assert seen["booked"] > 20 and seen["full"] > 20 and seen["held"] > 0, seen

    run_sync(go())
