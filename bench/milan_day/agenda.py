"""Simulated time: a clock the day sets, and an agenda of things due at given moments.

Everything that happens between two sweeps (a phone answered, a key pressed, a button, an
operator taking charge) is an entry on the agenda, run at its own moment with the clock set
to it, so times to acknowledge are measured to the fraction of a second, not to the step.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta


class SimClock:
    """The product's Clock protocol, at whatever moment the simulation has reached."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


class Agenda:
    def __init__(self, clock: SimClock):
        self.clock = clock
        self._entries: list[tuple[datetime, int, Callable, tuple]] = []
        self._order = itertools.count()  # same moment: first planned, first done
        self.done = 0

    def at(self, when: datetime, action: Callable, *args) -> None:
        heapq.heappush(self._entries, (when, next(self._order), action, args))

    def after(self, seconds: float, action: Callable, *args) -> None:
        self.at(self.clock.now() + timedelta(seconds=seconds), action, *args)

    def run_until(self, until: datetime) -> None:
        """Everything due up to `until`, in time order, including what it plans meanwhile."""
        while self._entries and self._entries[0][0] <= until:
            when, _, action, args = heapq.heappop(self._entries)
            # Never backwards: something planned "now" by an entry runs at that entry's time.
            self.clock.at = max(self.clock.at, when)
            action(*args)
            self.done += 1
        self.clock.at = max(self.clock.at, until)

    def __len__(self) -> int:
        return len(self._entries)
