"""One escalation engine as a process of its own, for the two-process tests.

    python -m tests.alerts.engine_process DATABASE_URL POLICIES LOG START_ISO FACTOR

Its clock runs FACTOR times faster than the wall clock from START (every process computes
the same `now` from the same wall clock). Its phone network is a log file: one line per call
or text placed, appended atomically, so the test can count who was phoned and by whom.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from datetime import datetime, timedelta

from alerts.engine import Engine
from telecare.runtime import Runtime
from telecare.settings import AlertsSettings, DatabaseSettings, Settings


class FastClock:
    def __init__(self, start: datetime, wall_start: float, factor: float):
        self.start, self.wall_start, self.factor = start, wall_start, factor

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.wall_start) * self.factor)


class LogPhones:
    """SenderPort: writes what it would place, one O_APPEND line each (atomic under PIPE_BUF)."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _log(self, kind: str, to: str, params: dict) -> None:
        line = f"{os.getpid()} {kind} {to} {params.get('notification', '-')}\n"
        os.write(self.fd, line.encode())

    def call(self, to, *, purpose, script, language, params, expected_digit):
        self._log("call", to, params)
        return None

    def text(self, to, body, *, purpose):
        self._log("sms", to, {})
        return None


def main() -> None:
    url, policies, log, start, factor = sys.argv[1:6]
    wall_start, start_at = float(start.split("@")[1]), datetime.fromisoformat(start.split("@")[0])
    settings = Settings(database=DatabaseSettings(url=url),
                        alerts=AlertsSettings(policies_file=policies, sweep_interval_ms=50,
                                              supervisor_numbers=["+393330009999"]))
    runtime = Runtime(settings, FastClock(start_at, wall_start, float(factor)))
    engine = Engine(runtime, LogPhones(log)).start()
    print("engine running", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    engine.stop()
    runtime.close()


if __name__ == "__main__":
    main()
