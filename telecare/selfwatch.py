"""The service watches itself: a part whose beat has gone stale raises an alarm.

Every `telecare serve` process runs this check every minute or so; the parts' beats are in
the database (telecare.beats), so any living process notices a silent one, on any machine.
A part silent for longer than the staleness opens one `service_stalled` alarm (its policy
texts the supervisor at once); when the part beats again the alarm is marked cleared, and an
operator closes it as any other. Several processes checking at once open one alarm per part:
the check holds a lock of its own for its few statements (PostgreSQL: an advisory lock;
SQLite: the write lock, one writer at a time).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload, sessionmaker

from telecare import alarms, beats
from telecare.clock import Clock
from telecare.db import begin_writing, session_scope
from telecare.models import Alarm, AlarmKind, AlarmState, Severity

log = logging.getLogger(__name__)

# pg_advisory_xact_lock's key: any constant no other part of the service uses.
LOCK_KEY = 0x7E1EC4E5
FORGET_AFTER = timedelta(days=7)


@dataclass
class Watched:
    opened: list[tuple[str, int]] = field(default_factory=list)  # (part, alarm id)
    repeated: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)


def stalled_alarms(session: Session) -> dict[str, Alarm]:
    """The unresolved service_stalled alarm of each part, by the part named when it opened."""
    found: dict[str, Alarm] = {}
    for alarm in session.scalars(
            select(Alarm).where(Alarm.kind == AlarmKind.SERVICE_STALLED,
                                Alarm.state != AlarmState.RESOLVED)
            .order_by(Alarm.id).options(selectinload(Alarm.events))):
        opened = next((e for e in alarm.events if e.kind == "opened"), None)
        component = (opened.detail or {}).get("component") if opened else None
        if component:
            found.setdefault(component, alarm)
    return found


def check(session: Session, now: datetime, stale_after: timedelta) -> Watched:
    """Open, repeat or clear each part's alarm from the ages of the beats; the caller commits."""
    _lock(session)
    watched = Watched()
    open_now = stalled_alarms(session)
    for component, reading in beats.latest(session, now, stale_after).items():
        age = reading.age_s(now)
        alarm = open_now.get(component)
        if age > stale_after.total_seconds():
            detail = {"component": component, "silent_s": round(age),
                      "last_instance": reading.instance,
                      "last_beat_at": reading.last_beat_at.isoformat(),
                      "stopped": bool(reading.detail.get("stopped"))}
            if alarm is None:
                alarm, _ = alarms.raise_alarm(session, enrollee_id=None,
                                              kind=AlarmKind.SERVICE_STALLED,
                                              severity=Severity.HIGH, now=now, **detail)
                session.flush()
                watched.opened.append((component, alarm.id))
            elif alarm.cleared_at is not None:
                # Silent again before anyone closed the alarm: the same alarm, no longer
                # cleared (as telecare.alarms does for a device that drops off again).
                alarm.cleared_at = None
                alarm.last_event_at = now
                alarms.record(session, alarm, "repeated", now, **detail)
                watched.repeated.append(component)
        elif alarm is not None and alarm.cleared_at is None:
            alarms.clear(session, alarm, now, reason=f"{component} beats again")
            watched.cleared.append(component)
    beats.forget_old(session, now, FORGET_AFTER)
    return watched


def _lock(session: Session) -> None:
    begin_writing(session)  # SQLite: BEGIN IMMEDIATE, so one check at a time
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


class SelfWatch:
    """The check, every interval, on a thread of its own; `on_opened` hears each new alarm."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, stale_after_s: float,
                 interval_s: float,
                 on_opened: Callable[[str, int], None] | None = None):
        self.sessions, self.clock = sessions, clock
        self.stale_after = timedelta(seconds=stale_after_s)
        self.interval_s = interval_s
        self.on_opened = on_opened
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> SelfWatch:
        self._thread = threading.Thread(target=self._run, name="service-selfwatch",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        # The first look after one interval: at start-up the other parts have not beaten yet.
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:
                log.exception("self-watch: the check failed; trying again")

    def run_once(self) -> Watched:
        with session_scope(self.sessions) as session:
            watched = check(session, self.clock.now(), self.stale_after)
        for component, alarm_id in watched.opened:
            log.error("self-watch: %s has not beaten for over %ds: alarm %s opened",
                      component, self.stale_after.total_seconds(), alarm_id,
                      extra={"component": component, "alarm": alarm_id})
            if self.on_opened is not None:
                try:
                    self.on_opened(component, alarm_id)
                except Exception:
                    log.exception("self-watch: telling about alarm %s failed", alarm_id)
        for component in watched.repeated:
            log.error("self-watch: %s is silent again", component,
                      extra={"component": component})
        for component in watched.cleared:
            log.info("self-watch: %s beats again; its alarm is cleared", component,
                     extra={"component": component})
        return watched
