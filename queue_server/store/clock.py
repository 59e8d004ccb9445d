"""The application's clock: wall-clock milliseconds that never step back.

The site's timestamps are compared with one another: a walk-in's rank in its
queue is its issue time, a wait is the call time less the issue time, a
print job's age is now less its queue time. A wall clock stepped back by NTP
would put the next citizen ahead of everyone who came before and make waits
negative. So each process reads the wall clock but, between two readings,
trusts the monotonic clock (which NTP never steps): a step forward is taken
at once (a PC that booted with a wrong clock), a step back is not; the lead
it leaves is worked off at 500 ppm (the fastest ntpd slews a clock), so a
wait measured meanwhile is right to 0.05 %. A step back of more than an
hour (a clock set by hand to another day) is taken as it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SLEW = 0.0005  # how fast a lead over the wall clock is worked off
MAX_ABSORB_MS = 3_600_000.0  # a step back larger than this is taken as it is


class SteadyClock:
    """Call it for the time in ms (an int). `wall` and `mono` give ns."""

    def __init__(self, wall: Callable[[], int] = time.time_ns, mono: Callable[[], int] = time.monotonic_ns):
        self._wall = wall
        self._mono = mono
        self._last: float | None = None  # ms
        self._last_mono = 0
        self._lock = threading.Lock()

    def not_before(self, ms: int) -> None:
        """Never answer less than `ms` from now on (a process starting after
        a step back: the newest event's time, so what it stamps comes after
        what came before it), unless that is more than MAX_ABSORB_MS ahead."""
        with self._lock:
            wall = self._wall() / 1e6
            if ms - wall > MAX_ABSORB_MS:
                return
            current = wall if self._last is None else self._last
            if ms > current:
                self._last, self._last_mono = float(ms), self._mono()
            elif self._last is None:
                self._last, self._last_mono = wall, self._mono()

    def __call__(self) -> int:
        with self._lock:
            wall = self._wall() / 1e6
            mono = self._mono()
            if self._last is None:
                now = wall
            else:
                elapsed = max(0.0, (mono - self._last_mono) / 1e6)
                steady = self._last + elapsed
                if wall >= steady or steady - wall > MAX_ABSORB_MS:
                    now = wall
                else:  # the wall clock went back: keep going, a little slower, until it catches up
                    now = max(wall, steady - elapsed * SLEW)
            self._last, self._last_mono = now, mono
            return int(now)


# The process's clock (read on first use: nothing happens at import).
steady_ms = SteadyClock()
