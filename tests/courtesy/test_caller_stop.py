"""A caller asked to stop mid-batch finishes the call it is on and gives the rest back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from telecare.actor import Actor
from telecare.courtesy.caller import PlannedCaller
from telecare.db import make_engine, make_session_factory
from telecare.enrolment.seed import seed_enrollees
from telecare.models import CallKind, CallMode, Enrollee, PlannedCall, PlannedCallState
from telecare.settings import DatabaseSettings, EnrolmentSettings, Settings
from tests.alerts.conftest import StepClock

MONDAY_MORNING = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class StoppingDialer:
    """Places the first call, and while it rings the service is told to stop."""

    def __init__(self):
        self.caller, self.placed = None, []

    def call(self, to, **kwargs) -> int:
        self.placed.append(kwargs["params"]["planned_call"])
        self.caller.stop()
        return 0


def test_a_stop_mid_batch_gives_back_what_was_not_dialled(server_database):
    sessions = make_session_factory(make_engine(server_database))
    seed_enrollees(sessions, 3, Actor.system(), MONDAY_MORNING, EnrolmentSettings(), seed=3)
    clock = StepClock(MONDAY_MORNING)
    with sessions() as session:
        for enrollee_id in session.scalars(select(Enrollee.id)):
            session.add(PlannedCall(enrollee_id=enrollee_id, kind=CallKind.COURTESY,
                                    mode=CallMode.AUTOMATED, occasion=clock.now().date(),
                                    planned_at=clock.now(), next_attempt_at=clock.now(),
                                    created_at=clock.now(), updated_at=clock.now()))
        session.commit()
    dialer = StoppingDialer()
    settings = Settings(database=DatabaseSettings(url=server_database))
    dialer.caller = PlannedCaller(settings, sessions, dialer, clock)

    dialer.caller.run_once()

    with sessions() as session:
        calls = session.scalars(select(PlannedCall).order_by(PlannedCall.id)).all()
        rung = [c for c in calls if c.id in dialer.placed]
        back = [c for c in calls if c.id not in dialer.placed]
    assert len(rung) == 1 and rung[0].state == PlannedCallState.CALLING
    assert [(c.state, c.attempts, c.next_attempt_at) for c in back] == [
        (PlannedCallState.PLANNED, 0, MONDAY_MORNING)] * 2
