"""Escalation fixtures: the live app and Twilio stand-in, a clock the test moves, an engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.engine import Engine
from alerts.messages import PhoneSender
from telecare import alarms
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import (
    Alarm,
    AlarmKind,
    AlarmNotification,
    Device,
    DeviceState,
    Enrollee,
    NotificationState,
    Severity,
)
from telecare.settings import AlertsSettings
from telecare.telephony.calls import Dialer
from telecare.telephony.sms import Messenger
from tests.factories import enrollee_data
from tests.telephony import conftest as telephony

live = telephony.live  # the app and the Twilio stand-in, over real HTTP

# A Monday morning in Milan: no quiet hours in the way.
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LANDLINE = "+390226145678"
ANNA = "+393331234567"  # the neighbour with the key, who takes texts
PAOLO = "+393477654321"  # the son
DOCTOR = "+390255551234"
SUPERVISOR = "+393330009999"


class StepClock:
    """`now` stands still until the test moves it: the ladder's minutes pass in no time."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at


class Ladder:
    """The test language for escalation, on top of the stand-in's phones."""

    def __init__(self, live, clock: StepClock, engine: Engine):
        self.live, self.sim, self.clock, self.engine = live, live.sim, clock, engine
        self.sessions = live.runtime.sessions

    def enrol(self) -> tuple[int, int]:
        """Maria, her landline, Anna (key, texts), Paolo, her doctor, and her pendant."""
        record = enrollee_data(contacts=[
            {"name": "Anna Verdi", "relation": "neighbour", "phone": ANNA, "holds_key": True,
             "can_sms": True},
            {"name": "Paolo Rossi", "relation": "family", "phone": PAOLO, "can_sms": False},
            {"name": "Dott. Neri", "relation": "doctor", "phone": DOCTOR, "can_sms": False},
        ], phones=[{"number": LANDLINE, "kind": "landline"}])
        settings = self.live.runtime.settings
        with self.sessions() as session:
            data = read_enrollee(record, self.clock.now().date(), settings.enrolment)
            enrollee = service.enrol(session, data, Actor("giulia"), self.clock.now())
            session.flush()
            device = Device(serial=f"PD-{enrollee.id:05d}", enrollee_id=enrollee.id,
                            state=DeviceState.ACTIVE, created_at=self.clock.now())
            session.add(device)
            session.commit()
            return enrollee.id, device.id

    def press(self, enrollee_id: int, device_id: int, kind: AlarmKind = AlarmKind.BUTTON,
              severity: Severity = Severity.CRITICAL) -> int:
        with self.sessions() as session:
            alarm, _ = alarms.raise_alarm(session, enrollee_id=enrollee_id, kind=kind,
                                          severity=severity, now=self.clock.now(),
                                          device_id=device_id, seq=1)
            session.commit()
            return alarm.id

    def taken_up(self, kind: AlarmKind = AlarmKind.BUTTON,
                 severity: Severity = Severity.CRITICAL) -> tuple[int, int]:
        """Maria's alarm, taken up by the engine (its first rung: the queue): alarm, device."""
        enrollee_id, device_id = self.enrol()
        alarm_id = self.press(enrollee_id, device_id, kind, severity)
        self.step()
        return alarm_id, device_id

    def call_back(self) -> None:
        """The queue's 30 s pass and the call-back is placed; the test answers it."""
        self.clock.advance(30)
        self.engine.run_once()

    def step(self, after_s: float = 0) -> None:
        """Move the clock on, let the engine do what is due, wait for its calls to end."""
        self.clock.advance(after_s)
        self.engine.run_once()
        self.settle()

    def settle(self) -> None:
        def placed_and_final():
            with self.sessions() as session:
                return not session.scalars(select(AlarmNotification.id).where(
                    AlarmNotification.state.in_([NotificationState.PENDING,
                                                 NotificationState.SENDING,
                                                 NotificationState.SENT]),
                    AlarmNotification.channel == "voice")).first()

        self.sim.wait_for(placed_and_final, 15, "the ladder's calls to end")

    def alarm(self, alarm_id: int) -> Alarm:
        with self.sessions() as session:
            alarm = session.get(Alarm, alarm_id)
            alarm.events  # noqa: B018 (loaded while the session is open)
            session.expunge_all()
            return alarm

    def timeline(self, alarm_id: int, kind: str | None = None) -> list:
        events = self.alarm(alarm_id).events
        return [e for e in events if kind is None or e.kind == kind]

    def enrollee_name(self, alarm_id: int) -> str:
        with self.sessions() as session:
            return session.get(Enrollee, session.get(Alarm, alarm_id).enrollee_id).full_name

    def rungs(self, alarm_id: int) -> list[str]:
        return [e.detail["action"] for e in self.timeline(alarm_id, "step")]

    def called(self) -> list[str]:
        return [call.to for call in self.sim.calls]


@pytest.fixture
def ladder(live):
    clock = StepClock(START)
    runtime = live.runtime
    runtime.clock = clock
    runtime.settings = runtime.settings.replace(
        alerts=replace(AlertsSettings(), supervisor_numbers=[SUPERVISOR]))
    sender = PhoneSender(Dialer(runtime.settings, runtime.sessions, live.telephony, clock),
                         Messenger(runtime.settings, runtime.sessions, live.telephony, clock))
    yield Ladder(live, clock, Engine(runtime, sender))
