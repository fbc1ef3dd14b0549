"""One planned-call sweeper as a process of its own, for the two-process test.

    python -m tests.courtesy.caller_process DATABASE_URL LOG START_ISO@WALL FACTOR

Its clock runs FACTOR times faster than the wall clock from START (every process computes
the same `now`). Its phone network answers at once, through the same functions Twilio's
webhooks reach: everyone presses 1, but the people whose enrollee id ends in 0, who never
pick up. Each call placed is one O_APPEND line in LOG (atomic under PIPE_BUF):
"pid planned_call attempt".
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import datetime

from telecare.courtesy.caller import PlannedCaller
from telecare.db import begin_writing, session_scope
from telecare.models import CallAttempt, PlannedCall
from telecare.runtime import Runtime
from telecare.settings import CallsSettings, DatabaseSettings, Settings
from telecare.telephony.calls import Dialer, apply_call_status, gather_twiml, voice_twiml
from tests.alerts.engine_process import FastClock


class AnsweringNetwork:
    """The port's side of a call, played in-process: the person answers, or never does."""

    def __init__(self):
        self.placed = 0

    def place_call(self, call):
        self.placed += 1
        return f"CA{os.getpid():08x}{self.placed:024x}"

    def send_sms(self, sms):  # pragma: no cover - planned calls send no texts
        raise NotImplementedError

    def hang_up(self, call_sid):
        pass


class PlayingDialer(Dialer):
    """Places the call, logs it, then plays its webhooks as Twilio would, one after another."""

    def __init__(self, *args, log: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def call(self, to, **kwargs) -> int:
        attempt_id = super().call(to, **kwargs)
        params = kwargs["params"]
        os.write(self.fd, f"{os.getpid()} {params['planned_call']} {params['attempt']}\n"
                 .encode())
        with session_scope(self.sessions) as session:
            begin_writing(session)  # as the web app's webhooks do
            attempt = session.get(CallAttempt, attempt_id)
            planned = session.get(PlannedCall, params["planned_call"])
            never_answers = planned.enrollee_id % 10 == 0
            now = self.clock.now()
            if never_answers:
                form = {"CallSid": attempt.call_sid, "CallStatus": "no-answer"}
            else:
                voice_twiml(session, self.settings, attempt, {"AnsweredBy": "human"}, now)
                gather_twiml(session, self.settings, attempt, "1", now)
                form = {"CallSid": attempt.call_sid, "CallStatus": "completed",
                        "AnsweredBy": "human"}
            apply_call_status(session, self.settings, attempt, form, now)
        return attempt_id


def main() -> None:
    url, log, start, factor = sys.argv[1:5]
    start_at, wall_start = start.split("@")
    # At this clock's speed a second of waiting for the database is hours of simulated
    # time: a lease of a week keeps a slow claim from being settled as a lost call.
    settings = Settings(database=DatabaseSettings(url=url),
                        calls=CallsSettings(lease_minutes=7 * 24 * 60))
    clock = FastClock(datetime.fromisoformat(start_at), float(wall_start), float(factor))
    runtime = Runtime(settings, clock)
    dialer = PlayingDialer(settings, runtime.sessions, AnsweringNetwork(), clock, log=log)
    caller = PlannedCaller(settings, runtime.sessions, dialer, clock, batch=20)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("caller running", flush=True)
    while not stop.is_set():
        try:
            caller.run_once()
        except Exception:  # as the scheduler does: log, and sweep again next time
            logging.exception("planned calls: the sweep failed")
        stop.wait(0.01)
    runtime.close()


if __name__ == "__main__":
    main()
