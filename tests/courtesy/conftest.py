"""Planned-call fixtures: the live app and Twilio stand-in, a clock the test moves, the caller."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from devices.events import apply_event
from devices.protocol import Event
from telecare.actor import Actor
from telecare.courtesy.caller import PlannedCaller
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import (
    Alarm,
    CallAttempt,
    CallKind,
    CallMode,
    Device,
    DeviceState,
    Enrollee,
    PlannedCall,
    PlannedCallState,
)
from telecare.telephony.calls import Dialer
from tests.alerts.conftest import StepClock
from tests.factories import enrollee_data
from tests.telephony import conftest as telephony

live = telephony.live  # the app and the Twilio stand-in, over real HTTP

# A Monday morning in Milan, inside the calling day (09:00-20:00 local).
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LANDLINE = "+390226145678"
OPERATORS = "+390200000099"


class Calls:
    """The test language for planned calls, on top of the stand-in's phones."""

    def __init__(self, live, clock: StepClock, news: list[str]):
        self.live, self.sim, self.clock = live, live.sim, clock
        self.sessions = live.runtime.sessions
        self.news = news
        runtime = live.runtime
        dialer = Dialer(runtime.settings, runtime.sessions, live.telephony, clock)
        self.caller = PlannedCaller(runtime.settings, runtime.sessions, dialer, clock,
                                    news=lambda session, enrollee, day: list(self.news))

    def enrol(self, *, device: bool = True, language: str = "it") -> int:
        """A person, her landline and (by default) her pendant."""
        record = enrollee_data(phones=[{"number": LANDLINE, "kind": "landline"}],
                               language=language, consent_date="2025-01-15")
        settings = self.live.runtime.settings
        with self.sessions() as session:
            data = read_enrollee(record, self.clock.now().date(), settings.enrolment)
            enrollee = service.enrol(session, data, Actor("giulia"), self.clock.now())
            session.flush()
            if device:
                session.add(Device(serial=f"PD-{enrollee.id:05d}", enrollee_id=enrollee.id,
                                   state=DeviceState.ACTIVE, created_at=self.clock.now()))
            session.commit()
            return enrollee.id

    def plan(self, enrollee_id: int, *, kind: CallKind = CallKind.COURTESY,
             at: datetime | None = None) -> int:
        at = at or self.clock.now()
        with self.sessions() as session:
            planned = PlannedCall(enrollee_id=enrollee_id, kind=kind, mode=CallMode.AUTOMATED,
                                  occasion=at.date(), planned_at=at, next_attempt_at=at,
                                  created_at=self.clock.now(), updated_at=self.clock.now())
            session.add(planned)
            session.commit()
            return planned.id

    def sweep(self, after_s: float = 0):
        """Move the clock on, let the caller ring what is due, wait for its calls to end."""
        self.clock.advance(after_s)
        sweep = self.caller.run_once()
        self.settle()
        return sweep

    def settle(self) -> None:
        def nothing_ringing():
            with self.sessions() as session:
                return not session.scalars(select(PlannedCall.id).where(
                    PlannedCall.state == PlannedCallState.CALLING)).first()

        self.sim.wait_for(nothing_ringing, 15, "the planned calls to end")

    def wait_for_button_look(self, planned_id: int, looks: int = 1) -> None:
        """Until the call has looked `looks` times for the button's signal (its silent
        waits are not heard, so the test watches the attempt instead)."""
        def looked():
            with self.sessions() as session:
                planned = session.get(PlannedCall, planned_id)
                attempt = session.scalars(select(CallAttempt).where(
                    CallAttempt.id == planned.call_attempt_id)).first()
                return attempt is not None and attempt.confirmed_at is not None \
                    and attempt.prompts >= looks

        self.sim.wait_for(looked, 10, f"the call to look {looks} time(s) for the button")

    def name(self, enrollee_id: int) -> str:
        with self.sessions() as session:
            return session.get(Enrollee, enrollee_id).full_name

    def planned(self, planned_id: int) -> PlannedCall:
        with self.sessions() as session:
            planned = session.get(PlannedCall, planned_id)
            planned.log  # noqa: B018 (loaded while the session is open)
            session.expunge_all()
            return planned

    def alarms(self, enrollee_id: int) -> list[Alarm]:
        with self.sessions() as session:
            alarms = list(session.scalars(select(Alarm).where(Alarm.enrollee_id == enrollee_id)
                                          .order_by(Alarm.id)))
            session.expunge_all()
            return alarms

    def press_alarm_button_test(self, enrollee_id: int, seq: int = 1) -> None:
        """The pendant's `test` event, as the bridge applies it."""
        settings = self.live.runtime.settings
        with self.sessions() as session:
            device = session.scalars(select(Device).where(Device.enrollee_id == enrollee_id)).one()
            apply_event(session, device,
                        Event(serial=device.serial, seq=seq, type="test", ts=self.clock.now()),
                        self.clock.now(), settings.devices)
            session.commit()


@pytest.fixture
def calls(live):
    clock = StepClock(START)
    runtime = live.runtime
    runtime.clock = clock
    alerts = runtime.settings.alerts
    from dataclasses import replace

    runtime.settings = runtime.settings.replace(alerts=replace(alerts, operator_number=OPERATORS))
    yield Calls(live, clock, news=[])
