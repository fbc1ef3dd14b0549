"""A brake on password guessing: a few failures per username and address, then a pause."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime, timedelta
from threading import Lock


class LoginThrottle:
    """In memory, per process: enough to slow a guesser; the audit log keeps the record."""

    def __init__(self, attempts: int, window: timedelta):
        self.attempts, self.window = attempts, window
        self._failures: dict[tuple[str, str], deque[datetime]] = defaultdict(deque)
        self._lock = Lock()

    def blocked(self, username: str, address: str, now: datetime) -> bool:
        with self._lock:
            failures = self._recent(self._key(username, address), now)
            return len(failures) >= self.attempts

    def failed(self, username: str, address: str, now: datetime) -> None:
        with self._lock:
            key = self._key(username, address)
            self._recent(key, now).append(now)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(self._key(username, address), None)

    def _key(self, username: str, address: str) -> tuple[str, str]:
        return username.strip().lower(), address

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
