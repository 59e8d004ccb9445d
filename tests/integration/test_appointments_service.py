"""AppointmentService on the real Redis with a moved clock (issue #10,
acceptance 3): the walk-in share is kept across an hour's slots, booking
closes book_until_minutes before a slot, a holiday and a closure have no
slots, a swapped working Saturday has them."""

from __future__ import annotations

from datetime import UTC, datetime

from queue_server.domain.config import parse_config
from queue_server.errors import AppError
from queue_server.services.appointments import AppointmentService
from queue_server.store.audit import AuditLog
from tests.helpers import Clock, appointment_store, make_store, run_sync, test_config_dict

MIN = 60_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def service(redis_url, body, now="2026-12-01T06:00:00+07:00", **changes):
    async def run():
        d = test_config_dict()
        d["appointments"] |= {"enabled": True, "reserve_walk_in_share": 0.5, "book_until_minutes": 60}
        d["categories"][0]["appointment_capacity"] = 10  # HT: 8 min, counters 1, 2, 3, 5
        d["hours"] |= {"closures": ["2026-12-03"], "extra_open_days": ["2026-12-05"]}
        for k, v in changes.items():
            d["appointments"][k] = v
        clock = Clock(ms(now))
        s = await make_store(redis_url, parse_config(d), clock=clock)
        svc = AppointmentService(
            s.config,
            appointment_store(s, clock),
            AuditLog(s.redis, s.keys),
            s,
            None,
            clock=lambda: datetime.fromtimestamp(clock.now / 1000, UTC),
        )
        try:
            await body(svc, clock)
        finally:
            await s.redis.aclose()

    run_sync(run())


def test_an_hour_sells_only_its_online_share(redis_url):
    async def body(svc, clock):
        booked, refused = 0, 0
        for i in range(24):
            hhmm = ["08:00", "08:15", "08:30", "08:45"][i % 4]
            try:
                await svc.book("HT", f"2026-12-01T{hhmm}:00+07:00", "Công dân", f"09120{i:05d}")
                booked += 1
            except AppError as e:
                assert e.code == "slot_full"
                refused += 1
        assert (booked, refused) == (15, 9)  # floor(0.5 * 4 counters * 60 / 8 min)
        slots = (await svc.slots("HT", "2026-12-01")).slots
        hour8 = [s for s in slots if s.start[11:13] == "08"]
        assert [s.capacity for s in hour8] == [10] * 4 and [s.available for s in hour8] == [0] * 4
        nine = next(s for s in slots if s.start.endswith("09:00:00+07:00"))
        assert nine.available == 10  # the next hour has its own budget

    service(redis_url, body)


def test_booking_closes_book_until_minutes_before(redis_url):
    async def body(svc, clock):
        clock.now = ms("2026-12-01T08:00:00+07:00")
        slots = {s.start[11:16]: s for s in (await svc.slots("HT", "2026-12-01")).slots}
        assert slots["09:00"].available == 0 and slots["09:15"].available == 10
        try:
            await svc.book("HT", "2026-12-01T09:00:00+07:00", "Công dân", "0912000001")
            raise AssertionError("booked a closed slot")
        except AppError as e:
            assert e.code == "slot_closed"
        b = await svc.book("HT", "2026-12-01T09:15:00+07:00", "Công dân", "0912000001")
        clock.now = ms("2026-12-01T08:15:00+07:00")  # 60 minutes before: no more cancel or move
        token = b.manage_url.split("token=")[1]
        view = await svc.view(b.id, token)
        assert view.may_change is False
        try:
            await svc.cancel(b.id, token)
            raise AssertionError("cancelled too late")
        except AppError as e:
            assert e.code == "change_closed" and "60" in e.message("vi")

    service(redis_url, body)


def test_closed_days_and_a_swapped_saturday(redis_url):
    async def body(svc, clock):
        assert (await svc.slots("HT", "2026-12-03")).slots == []  # a closure
        assert (await svc.slots("HT", "2026-12-06")).slots == []  # Sunday
        assert len((await svc.slots("HT", "2026-12-05")).slots) == 30  # a swapped working Saturday
        b = await svc.book("HT", "2026-12-05T07:30:00+07:00", "Công dân", "0912000002")
        assert b.start == "2026-12-05T07:30:00+07:00"

    service(redis_url, body)


def test_a_public_holiday_has_no_slots(redis_url):
    async def body(svc, clock):
        assert (await svc.slots("HT", "2027-09-02")).slots == []  # National Day
        assert (await svc.slots("HT", "2027-09-03")).slots == []  # its second day
        assert len((await svc.slots("HT", "2027-09-01")).slots) == 30

    service(redis_url, body, now="2027-08-31T09:00:00+07:00")
