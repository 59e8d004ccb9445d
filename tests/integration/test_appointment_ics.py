"""The booking's .ics (issue #10, acceptance 4): it parses with icalendar,
DTSTART and DTEND are wall-clock times in Asia/Ho_Chi_Minh (TZID, with its
VTIMEZONE) equal to the slot the API lists, and follow a move."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from queue_server.domain.config import parse_config
from queue_server.services.appointments import AppointmentService
from queue_server.store.audit import AuditLog
from tests.helpers import Clock, appointment_store, make_store, run_sync, test_config_dict

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_ics_times_are_the_slot_in_the_site_zone_and_follow_a_move(redis_url):
    async def go():
        d = test_config_dict()
        d["appointments"] |= {"enabled": True}
        d["categories"][0]["appointment_capacity"] = 3
        clock = Clock(int(datetime(2026, 12, 1, 6, 0, tzinfo=HCM).timestamp() * 1000))
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
            slots = (await svc.slots("HT", "2026-12-02")).slots
            first = next(x for x in slots if x.start.endswith("T14:00:00+07:00"))
            b = await svc.book("HT", first.start, "An", "0912345678")
            token = b.manage_url.split("token=")[1]

            def times(raw: bytes):
                cal = Calendar.from_ical(raw)
                ev = next(iter(cal.walk("VEVENT")))
                assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
                assert ev["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
                start, end = ev.decoded("dtstart"), ev.decoded("dtend")
                assert str(start.tzinfo) == str(end.tzinfo) == "Asia/Ho_Chi_Minh"
                return start, end, raw.decode()

            start, end, text = times(await svc.ics(b.id, token))
            assert (start, end) == (datetime.fromisoformat(first.start), datetime.fromisoformat(first.end))
            assert (start.hour, start.minute, end.hour, end.minute) == (14, 0, 14, 15)
            assert "DTSTART;TZID=Asia/Ho_Chi_Minh:20261202T140000" in text.replace("\r\n ", "")
            moved = next(x for x in slots if x.start.endswith("T08:45:00+07:00"))
            await svc.move(b.id, token, moved.start)
            start, end, text = times(await svc.ics(b.id, token))
            assert (start, end) == (datetime.fromisoformat(moved.start), datetime.fromisoformat(moved.end))
            assert "DTEND;TZID=Asia/Ho_Chi_Minh:20261202T090000" in text.replace("\r\n ", "")
        finally:
            await s.redis.aclose()

    run_sync(go())
