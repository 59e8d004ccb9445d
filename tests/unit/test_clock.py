"""The application's clock (store/clock.py) against a wall clock that NTP
steps: forward steps taken, backward steps absorbed and worked off slowly,
a step back of more than an hour taken."""

from __future__ import annotations

from queue_server.store.clock import MAX_ABSORB_MS, SLEW, SteadyClock

MS = 1_000_000  # ns


class Clocks:
    def __init__(self):
        self.wall = 1_764_000_000_000 * MS
        self.mono = 5_000 * MS

    def tick(self, ms: float, wall_step_ms: float = 0) -> None:
        self.mono += int(ms * MS)
        self.wall += int((ms + wall_step_ms) * MS)


def _clock(c: Clocks) -> SteadyClock:
    return SteadyClock(wall=lambda: c.wall, mono=lambda: c.mono)


def test_follows_the_wall_clock_while_it_does_not_step():
    c = Clocks()
    clock = _clock(c)
    assert clock() == c.wall // MS
    c.tick(1500)
    assert clock() == c.wall // MS


def test_a_step_back_is_absorbed_and_worked_off_at_the_slew_rate():
    c = Clocks()
    clock = _clock(c)
    t0 = clock()
    c.tick(10_000, wall_step_ms=-120_000)  # 10 s later NTP steps the clock back 2 minutes
    t1 = clock()
    assert t1 - t0 == 10_000 - int(10_000 * SLEW)  # the 10 s went by, less the slew
    c.tick(60_000)
    t2 = clock()
    assert 60_000 * (1 - SLEW) - 1 <= t2 - t1 <= 60_000  # a wait measured across the step: right to the slew
    assert t2 > c.wall // MS  # still ahead of the stepped wall clock, working it off
    lead = t2 - c.wall // MS
    c.tick(lead / SLEW + 1000)  # long enough to work the lead off
    assert clock() == c.wall // MS  # the wall clock again


def test_a_step_forward_is_taken_at_once():
    c = Clocks()
    clock = _clock(c)
    t0 = clock()
    c.tick(1000, wall_step_ms=3 * 3_600_000)
    assert clock() - t0 == 1000 + 3 * 3_600_000


def test_a_step_back_of_more_than_an_hour_is_taken():
    c = Clocks()
    clock = _clock(c)
    clock()
    c.tick(1000, wall_step_ms=-(MAX_ABSORB_MS + 60_000))
    assert clock() == c.wall // MS


def test_never_goes_back_for_a_small_step():
    c = Clocks()
    clock = _clock(c)
    seen = [clock()]
    for step in (-50, -5_000, 0, -120_000, 30, -1):
        c.tick(7, wall_step_ms=step)
        seen.append(clock())
    assert seen == sorted(seen)


def test_a_process_started_after_a_step_back_stamps_after_the_newest_event():
    c = Clocks()
    newest = c.wall // MS + 90_000  # stamped by a process whose clock was 90 s ahead before the step
    clock = _clock(c)
    clock.not_before(newest)
    t0 = clock()
    assert t0 >= newest
    c.tick(1000)
    assert 1000 * (1 - SLEW) - 1 <= clock() - t0 <= 1000  # and it runs on steadily
    later = _clock(c)
    later.not_before(c.wall // MS + MAX_ABSORB_MS + 60_000)  # more than an hour ahead: not believed
    assert later() == c.wall // MS
