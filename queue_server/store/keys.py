"""The one place that knows Redis key names.

Every key of a site carries the hash tag ``{site}`` so that all of a site's
keys land in one Redis Cluster slot and a Lua script may touch any of them.
Queues have logical names (``q:HT``, ``qp:HT``, ``qc:3``) that tickets
store; `Keys.queue` maps a logical name to its key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SAFE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}\Z")


class UnsafeKey(ValueError):
    """A key part outside ``[A-Za-z0-9_.:-]{1,128}``: no key can hold it."""


def normal_queue(category: str) -> str:
    return f"q:{category}"


def priority_queue(category: str) -> str:
    return f"qp:{category}"


def rq_workers_key(queue_name: str) -> str:
    """RQ's own set of the workers listening on a queue (members are their
    hash keys, ``rq:worker:<name>``); not a site's key: RQ names it."""
    return f"rq:workers:{queue_name}"


def counter_queue(counter: int) -> str:
    return f"qc:{counter}"


def province_keys(default_site: str) -> Keys:
    """The keys of a deployment's province-level accounts (users, sessions,
    their rate limits and audit): a keyspace of its own, not a site's."""
    return Keys(f"{default_site}:province")


class Keys:
    def __init__(self, site: str):
        if not _SAFE.match(site):
            raise UnsafeKey(f"unsafe site id {site!r}")
        self.site = site
        self.prefix = f"mc:{{{site}}}:"

    def _k(self, *parts: object) -> str:
        for p in parts:
            if not _SAFE.match(str(p)):
                raise UnsafeKey(f"unsafe key part {p!r}")
        return self.prefix + ":".join(str(p) for p in parts)

    # -- live state ----------------------------------------------------
    @property
    def tickets(self) -> str:
        return self._k("tickets")

    def numbers(self, day: str) -> str:
        return self._k("num", day)

    def sequence(self, day: str, category: str) -> str:
        return self._k("seq", day, category)

    def queue(self, logical: str) -> str:
        return self._k(logical)

    def counter(self, number: int) -> str:
        return self._k("counter", number)

    def counter_stats(self, day: str, counter: int) -> str:
        """HASH served, no_shows, calls, service_ms_total of one counter on one
        service day (YYYYMMDD, the site's time zone), kept by the Lua scripts."""
        return self._k("cstats", day, counter)

    def no_shows(self, day: str, category: str) -> str:
        """ZSET ticket id -> when it was marked no-show (ms), of one category on
        one service day: finish.lua adds, requeue.lua removes (the counter
        app's no-show list reads it without scanning the event log)."""
        return self._k("noshow", day, category)

    @property
    def recent(self) -> str:
        return self._k("recent")

    @property
    def averages(self) -> str:
        return self._k("avg")

    def idempotency(self, scope: str) -> str:
        return self._k("idem", scope)

    # -- the event log ---------------------------------------------------
    @property
    def events(self) -> str:
        return self._k("events")

    @property
    def event_seq(self) -> str:
        return self._k("evseq")

    @property
    def archive_checkpoint(self) -> str:
        """The stream id of the newest event archived to Parquet (store/archive.py)."""
        return self._k("archive", "checkpoint")

    @property
    def channel(self) -> str:
        """Pub/sub channel on which every event is published (not a key)."""
        return self._k("live")

    # -- configuration and security -------------------------------------
    @property
    def config(self) -> str:
        return self._k("config")

    @property
    def schema_version(self) -> str:
        """STRING the layout version of this site's data (store/migrations.py); absent = 1."""
        return self._k("schema")

    @property
    def migration_lock(self) -> str:
        """STRING held (with a TTL) while one process migrates the site."""
        return self._k("schema", "lock")

    @property
    def backup_last(self) -> str:
        """STRING JSON {at, file, size, ok, error}: the last backup's result (store/backups.py)."""
        return self._k("backup", "last")

    @property
    def settings(self) -> str:
        return self._k("settings")

    @property
    def users(self) -> str:
        return self._k("users")

    @property
    def devices(self) -> str:
        return self._k("devices")

    @property
    def device_seen(self) -> str:
        """HASH device id -> its last contact (ms), written at most once a minute."""
        return self._k("devseen")

    def session(self, sid: str) -> str:
        return self._k("sess", sid)

    def rate(self, bucket: str) -> str:
        return self._k("rl", bucket)

    @property
    def audit(self) -> str:
        return self._k("audit")

    def lockout(self, username: str) -> str:
        return self._k("lock", username)

    def pairing_code(self, code: str) -> str:
        """A display's pairing code -> its poll id (expires)."""
        return self._k("pair", "code", code)

    def pairing(self, poll_id: str) -> str:
        """A pairing request the display polls: waiting, or its token once."""
        return self._k("pair", "poll", poll_id)

    # -- many sites (domain/sites.py) -------------------------------------
    @property
    def sites(self) -> str:
        """HASH site id -> JSON SiteEntry: the deployment's further sites,
        kept under the default site's tag (the default site is not in it)."""
        return self._k("sites")

    # -- background work -------------------------------------------------
    def print_jobs(self) -> str:
        return self._k("print", "jobs")

    # -- printing (issue 4) ------------------------------------------------
    @property
    def print_due(self) -> str:
        """ZSET job id -> ms when it may be sent (again) to a print agent."""
        return self._k("print", "due")

    @property
    def print_done(self) -> str:
        """HASH job id -> ms when the agent acked it (dedup of finished jobs)."""
        return self._k("print", "done")

    @property
    def print_skipped(self) -> str:
        """HASH ticket id -> JSON {ticket, number, reason, at}: first prints
        dropped unprinted (too old, or the ticket no longer waiting)."""
        return self._k("print", "skipped")

    @property
    def print_skipped_recent(self) -> str:
        """LIST of the latest print_skipped entries (JSON), newest first, at most 20."""
        return self._k("print", "skipped_recent")

    @property
    def print_reprints(self) -> str:
        """HASH ticket id -> number of reprints asked."""
        return self._k("print", "reprints")

    @property
    def printer_status(self) -> str:
        """HASH status, detail, updated, seen, agent of the ticket printer."""
        return self._k("printer", "status")

    # -- appointments (issue 10) -------------------------------------------
    def appointment(self, appointment_id: str) -> str:
        """HASH one booking: id, code, category, start (ms), slot, hour, day,
        status, token (the manage token's digest), phone_key, created_at...
        No name or phone (see `appointment_personal`)."""
        return self._k("appt", "rec", appointment_id)

    def appointment_personal(self, appointment_id: str) -> str:
        """HASH name, phone of one booking, apart from the record; it expires
        keep_personal_days after the slot."""
        return self._k("appt", "pii", appointment_id)

    @property
    def appointment_codes(self) -> str:
        """HASH booking code -> booking id (codes are unique per site)."""
        return self._k("appt", "codes")

    def appointment_slot(self, category: str, slot: str) -> str:
        """SET the ids booked in one slot (slot: local YYYYMMDDHHMM)."""
        return self._k("appt", "slot", category, slot)

    def appointment_hour(self, category: str, hour: str) -> str:
        """SET the ids booked in one clock hour of a category (local YYYYMMDDHH)."""
        return self._k("appt", "hour", category, hour)

    def appointment_held(self, category: str, slot: str) -> str:
        """ZSET cancelled places of a slot not yet back on sale, and bookings held
        for their OTP: id -> ms the place returns."""
        return self._k("appt", "held", category, slot)

    def appointment_held_hour(self, category: str, hour: str) -> str:
        """ZSET the same for the hour's budget."""
        return self._k("appt", "heldh", category, hour)

    def appointment_phone(self, day: str, phone_key: str) -> str:
        """SET the ids one phone (by its digest, never the number) booked on a day (YYYYMMDD)."""
        return self._k("appt", "phone", day, phone_key)

    def appointment_phone_pending(self, day: str, phone_key: str) -> str:
        """ZSET the bookings one phone holds for their OTP on a day: id -> ms the hold lapses."""
        return self._k("appt", "phonep", day, phone_key)

    def appointment_day(self, day: str) -> str:
        """ZSET the bookings of a day (YYYYMMDD): id -> slot start (ms)."""
        return self._k("appt", "day", day)

    @property
    def appointment_notices(self) -> str:
        """ZSET booking id -> ms booked, of the bookings whose confirmation and
        reminders are still to be sent and scheduled (after the booking's reply)."""
        return self._k("appt", "notices")

    @property
    def room_arrivals(self) -> str:
        """ZSET ticket id -> ms of its issue, for the last RATE_WINDOW_MIN minutes
        (the room's arrival rate; kept by issue_into, trimmed as it goes)."""
        return self._k("room", "arrivals")

    @property
    def room_away(self) -> str:
        """ZSET waiting tickets sent away from a full room: id -> ms of their come-back time."""
        return self._k("room", "away")

    @property
    def room_phones(self) -> str:
        """HASH ticket id -> the phone (E.164) its holder gave at the kiosk for one
        "your turn is near" notice; deleted when it is sent or the ticket stops waiting."""
        return self._k("room", "phones")

    def all_queue_names(self, categories: Iterable[str], counters: Iterable[int]) -> list[str]:
        names: list[str] = []
        for c in categories:
            names += [priority_queue(c), normal_queue(c)]
        names += [counter_queue(n) for n in counters]
        return names
