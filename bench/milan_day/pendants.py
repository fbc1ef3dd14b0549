"""The pendants: heartbeats, presses, falls, tests, flat batteries and devices going silent.

Each event goes through `devices.events.apply_event` in its own committed transaction, as the
MQTT bridge applies it; heartbeats through `watchdog.flush_seen` and the watchdog's own sweep,
as the heartbeat process and the bridge's housekeeping run them. No broker: the day needs the
product's decisions on a real database, not the MQTT transport (bench/devices_bench.py
measures that).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.milan_day import figures
from bench.milan_day.agenda import Agenda
from bench.milan_day.people import People
from devices import watchdog
from devices.events import apply_event
from devices.protocol import Event
from telecare.db import begin_writing, session_scope
from telecare.models import Device, DeviceState
from telecare.settings import Settings

LOW_BATTERY_LEVEL = 15  # percent, below the product's low_battery_percent (20)


@dataclass
class Pendant:
    id: int
    serial: str
    enrollee_id: int
    seq: int = 0  # protocol v1: one more per event
    silent: bool = False  # unplugged, no power: no heartbeat reaches us


class Pendants:
    def __init__(self, agenda: Agenda, sessions: sessionmaker[Session], settings: Settings,
                 people: People, rng: random.Random):
        self.agenda, self.sessions, self.settings, self.people, self.rng = (
            agenda, sessions, settings, people, rng)
        self.by_enrollee: dict[int, Pendant] = {}
        self.events: Counter = Counter()  # what the pendants sent, by type
        self.genuine = 0
        self.silenced = self.back = 0

    def load(self) -> int:
        with self.sessions() as session:
            rows = session.execute(select(Device.id, Device.serial, Device.enrollee_id).where(
                Device.state == DeviceState.ACTIVE, Device.enrollee_id.is_not(None))).all()
        self.by_enrollee = {enrollee: Pendant(i, serial, enrollee) for i, serial, enrollee in rows}
        return len(rows)

    # -- the day's plan --------------------------------------------------------------------

    def plan(self, start: datetime, end: datetime, zone: ZoneInfo) -> None:
        """Presses by the hour's rate; a few devices falling silent; a few flat batteries."""
        pendants = sorted(self.by_enrollee.values(), key=lambda p: p.id)
        if not pendants:
            return
        # A Poisson process whose rate follows the local hour, drawn by thinning: candidates
        # at the busiest hour's rate, each kept with its own hour's share of that rate.
        weights = figures.HOURLY_WEIGHTS
        mean_weight, top_weight = sum(weights) / 24, max(weights)
        per_hour = len(pendants) * figures.ALARMS_PER_PERSON_YEAR / 365 / 24
        candidates_per_hour = per_hour * top_weight / mean_weight
        moment = start
        while True:
            moment += timedelta(hours=self.rng.expovariate(candidates_per_hour))
            if moment >= end:
                break
            if self.rng.random() < weights[moment.astimezone(zone).hour] / top_weight:
                self.agenda.at(moment, self._alarm, self.rng.choice(pendants))
        day_share = (end - start) / timedelta(days=1)
        for pendant in self._some(pendants, figures.OFFLINE_SHARE * day_share):
            self.agenda.at(self._moment(start, end), self._fall_silent, pendant)
        for pendant in self._some(pendants, figures.LOW_BATTERY_SHARE * day_share):
            self.agenda.at(self._moment(start, end), self._send, pendant, "battery")

    def _some(self, pendants: list[Pendant], share: float) -> list[Pendant]:
        count = int(len(pendants) * share + self.rng.random())  # 0.4 expected: 0 or 1
        return self.rng.sample(pendants, min(count, len(pendants)))

    def _moment(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random()

    # -- what a pendant does ---------------------------------------------------------------

    def _alarm(self, pendant: Pendant) -> None:
        """A press of the button or the fall detector; now and then pressed again."""
        genuine = self.rng.random() < figures.GENUINE_SHARE
        self.people.genuine[pendant.enrollee_id] = genuine
        self.genuine += genuine
        kind = "fall" if self.rng.random() < figures.FALL_SHARE else "alarm"
        self._send(pendant, kind)
        if kind == "alarm" and self.rng.random() < figures.PRESSED_AGAIN_SHARE:
            self.agenda.after(self.rng.uniform(5, 60), self._send, pendant, "alarm")

    def test_button(self, enrollee_id: int, after_s: float) -> None:
        """The weekly call asked for a press of the pendant: it comes `after_s` from now."""
        pendant = self.by_enrollee.get(enrollee_id)
        if pendant is not None:
            self.agenda.after(after_s, self._send, pendant, "test")

    def _send(self, pendant: Pendant, kind: str) -> None:
        if pendant.silent:
            return  # its base unit cannot reach us
        pendant.seq += 1
        now = self.agenda.clock.now()
        event = Event(pendant.serial, pendant.seq, kind, now,
                      level=LOW_BATTERY_LEVEL if kind == "battery" else None)
        with session_scope(self.sessions) as session:
            begin_writing(session)  # as the bridge's event worker
            device = session.get(Device, pendant.id)
            apply_event(session, device, event, now, self.settings.devices)
        self.events[kind] += 1

    def _fall_silent(self, pendant: Pendant) -> None:
        pendant.silent = True
        self.silenced += 1
        if self.rng.random() < figures.BACK_ONLINE_SHARE:
            minutes = self.rng.uniform(*figures.BACK_AFTER_MIN)
            self.agenda.after(minutes * 60, self._come_back, pendant)

    def _come_back(self, pendant: Pendant) -> None:
        pendant.silent = False  # its next heartbeat brings it back online
        self.back += 1

    # -- the sweeps ------------------------------------------------------------------------

    def heartbeats(self) -> None:
        """One heartbeat from every pendant that can reach us, written as one batch.

        The heartbeat process writes what it heard each second; here a minute's worth goes
        at once, stamped with the moment of the flush (the watchdog's due times are the same
        to within the minute)."""
        now = self.agenda.clock.now()
        seen = [watchdog.Seen(p.id, now, figures.HEARTBEAT_S)
                for p in self.by_enrollee.values() if not p.silent]
        with session_scope(self.sessions) as session:
            watchdog.flush_seen(session, seen, self.settings.devices.grace_s, now)

    def watch(self) -> None:
        """The watchdog's sweep, in committed batches, as the bridge runs it."""
        while True:
            with session_scope(self.sessions) as session:
                begin_writing(session)
                taken = watchdog.sweep(session, self.agenda.clock.now(), limit=200)
            if len(taken) < 200:
                return
