"""Bad input is counted and logged, at most one line per device a minute, and never raised."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

log = logging.getLogger("devices.badinput")

WINDOW_S = 60.0
MAX_KEYS = 10_000  # a flood of invented serials must not grow this without bound


class BadInput:
    def __init__(self):
        self.counts: Counter[str] = Counter()
        self._last: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def report(self, reason: str, key: str, message: str) -> None:
        """Count a refused message under `reason`; log it unless `key` was logged lately."""
        now = time.monotonic()
        with self._lock:
            self.counts[reason] += 1
            last, suppressed = self._last.get(key, (0.0, 0))
            if last and now - last < WINDOW_S:
                self._last[key] = (last, suppressed + 1)
                return
            if len(self._last) >= MAX_KEYS:
                self._last.clear()
            self._last[key] = (now, 0)
        more = f" ({suppressed} more since the last report)" if suppressed else ""
        log.warning("refused %s from %s: %s%s", reason, key[:80], message, more)
