"""The service's own heartbeat: each running part says, in the database, that it is alive.

A part (the bridge, the escalation engine, the planned calls, the campaign sweep) is alive
while it makes progress: the composition root gives each a probe that reads the part's own
progress marker (or its connection), and one thread per process writes the live parts' beats
every few seconds. A part that stalls is simply left out, so its beat ages; /healthz and the
self-watch of every process (telecare.selfwatch) read the ages from the database, whichever
process or machine the part runs on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from telecare.clock import Clock
from telecare.db import begin_writing, session_scope
from telecare.models import ServiceBeat

log = logging.getLogger(__name__)

# The parts that beat, as they are named in service_beat, /healthz, /metrics and alarms.
BRIDGE = "bridge"
ESCALATION = "scheduler.escalation"
PLANNED_CALLS = "scheduler.planned_calls"
CAMPAIGNS = "scheduler.campaigns"

# (alive, detail): whether the part has made progress lately, and what to say about it.
Probe = Callable[[], tuple[bool, dict]]


def instance_id() -> str:
    """host:pid, read at call time: a forked process is an instance of its own."""
    return f"{socket.gethostname()}:{os.getpid()}"


def progress_probe(marker: Callable[[], float], quiet_s: float,
                   detail: Callable[[], dict] | None = None) -> Probe:
    """Alive while `marker()` (a time.monotonic() the part moves) is less than quiet_s old."""
    def probe() -> tuple[bool, dict]:
        quiet = time.monotonic() - marker()
        return quiet < quiet_s, {"quiet_s": round(quiet, 1), **(detail() if detail else {})}
    return probe


class Progress:
    """A progress marker for a part whose loop lives in the composition root."""

    def __init__(self) -> None:
        self.at = time.monotonic()

    def mark(self) -> None:
        self.at = time.monotonic()


# -- reading and writing ---------------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """A part's newest beat, whichever of its instances wrote it."""

    component: str
    instance: str
    started_at: datetime
    last_beat_at: datetime
    detail: dict
    instances: int  # instances of the part that have beaten within the staleness

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.last_beat_at).total_seconds())


def record(session: Session, component: str, instance: str, started_at: datetime,
           now: datetime, detail: dict) -> None:
    """This instance's beat for one part: its own row, so no two processes write the same."""
    changed = session.execute(
        update(ServiceBeat)
        .where(ServiceBeat.component == component, ServiceBeat.instance == instance)
        .values(last_beat_at=now, detail=detail)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        session.add(ServiceBeat(component=component, instance=instance, started_at=started_at,
                                last_beat_at=now, detail=detail))
        session.flush()


def latest(session: Session, now: datetime, stale_after: timedelta) -> dict[str, Reading]:
    """Each part's newest beat (by component), with how many instances beat lately."""
    rows = session.scalars(select(ServiceBeat).order_by(ServiceBeat.component,
                                                        ServiceBeat.last_beat_at)).all()
    found: dict[str, Reading] = {}
    for row in rows:  # oldest first: the newest of each part stays
        live = sum(1 for r in rows if r.component == row.component
                   and now - r.last_beat_at <= stale_after
                   and not r.detail.get("stopped"))
        found[row.component] = Reading(row.component, row.instance, row.started_at,
                                       row.last_beat_at, dict(row.detail or {}), live)
    return found


def forget_old(session: Session, now: datetime, older_than: timedelta) -> int:
    """Rows of long-gone instances of a part that other instances have beaten for since.

    Every restart is a new host:pid; without this the table grows by a row per restart. A
    part's newest row is always kept, so a part that went silent for good stays visible.
    """
    newest = (select(ServiceBeat.component, func.max(ServiceBeat.last_beat_at).label("at"))
              .group_by(ServiceBeat.component).subquery())
    old = session.execute(
        select(ServiceBeat.component, ServiceBeat.instance)
        .join(newest, newest.c.component == ServiceBeat.component)
        .where(ServiceBeat.last_beat_at < now - older_than,
               ServiceBeat.last_beat_at < newest.c.at)).all()
    for component, instance in old:
        session.execute(delete(ServiceBeat).where(ServiceBeat.component == component,
                                                  ServiceBeat.instance == instance))
    return len(old)


# -- the beating thread ----------------------------------------------------------------------

class Beats:
    """One thread per process: every interval, the beats of the parts that are alive."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, interval_s: float):
        self.sessions, self.clock, self.interval_s = sessions, clock, interval_s
        self.instance = instance_id()
        self._probes: dict[str, Probe] = {}
        self._started: dict[str, datetime] = {}
        self._alive: dict[str, bool] = {}  # each part's last probe: logged when it changes
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, component: str, probe: Probe) -> None:
        with self._lock:
            self._probes[component] = probe
            self._started[component] = self.clock.now()

    def start(self) -> Beats:
        self._thread = threading.Thread(target=self._run, name="service-beats", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating, and say so: the last beat of each part carries "stopped"."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.beat_once(stopped=True)
        except Exception:
            log.warning("service beats: could not record the stop", exc_info=True)

    def _run(self) -> None:
        while True:
            try:
                self.beat_once()
            except Exception:
                # The database away for a moment: the beats age, which is the truth.
                log.warning("service beats: could not record them; trying again",
                            exc_info=True)
            if self._stop.wait(self.interval_s):
                return

    def beat_once(self, stopped: bool = False) -> list[str]:
        """Write the beats of the parts alive now; returns their names."""
        with self._lock:
            probes = list(self._probes.items())
        alive: list[tuple[str, dict]] = []
        for component, probe in probes:
            try:
                ok, detail = probe()
            except Exception:  # a probe's bug must not stop the other parts' beats
                log.exception("service beats: probing %s failed", component)
                continue
            if stopped:
                # A part that had stalled stays stale: its last beat is not refreshed.
                if ok or self._alive.get(component):
                    alive.append((component, detail | {"stopped": True}))
                continue
            was = self._alive.get(component)
            self._alive[component] = ok
            if ok:
                alive.append((component, detail))
                if was is False:
                    log.info("service beats: %s is making progress again", component,
                             extra={"component": component})
            elif was:  # not at start-up, before a part has first shown it is alive
                log.warning("service beats: %s made no progress lately (%s); not beating",
                            component, detail, extra={"component": component})
        if not alive:
            return []
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            begin_writing(session)
            for component, detail in alive:
                record(session, component, self.instance, self._started[component], now,
                       detail)
        return [component for component, _ in alive]
