"""Rate limits: the account's calls per second, and how often one number may be phoned."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telecare.models import CallAttempt
from telecare.telephony.port import CRITICAL_PURPOSES


class TokenBucket:
    """At most `rate` acquisitions in any second, shared by every thread of the process.

    The bucket holds a single token: Twilio queues (and may refuse) bursts above the account's
    calls-per-second, so calls are spaced evenly instead of sent in bursts.
    """

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: float | None = None

    def acquire(self) -> float:
        """Wait for the next slot; returns the time (on the bucket's clock) it was granted."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_free is None else max(now, self._next_free)
            self._next_free = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
        return slot


def contact_limit_reached(session: Session, number: str, purpose: str, now: datetime, *,
                          limit: int = 3, window: timedelta = timedelta(minutes=15)) -> bool:
    """Whether one more non-critical call to `number` would exceed `limit` in `window`."""
    if purpose in CRITICAL_PURPOSES:
        return False
    recent = session.scalar(
        select(func.count()).select_from(CallAttempt).where(
            CallAttempt.to_number == number, CallAttempt.created_at > now - window))
    return recent >= limit
