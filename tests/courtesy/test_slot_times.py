"""A slot is local time: 10:00 on the Sundays the clocks change rings at 10:00 in Milan, and a
call falling on a public holiday moves as the configured rule says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from telecare.courtesy import planner
from telecare.courtesy.calendar import CallCalendar
from telecare.models import CallAttempt, CallKind, Enrollee, PlannedCall
from telecare.twilio_sim import Behaviour
from tests.courtesy.conftest import LANDLINE

ROME = ZoneInfo("Europe/Rome")
SUNDAY = 6


def give_slot(calls, enrollee_id: int, weekday: int, start: time) -> None:
    with calls.sessions() as session:
        enrollee = session.get(Enrollee, enrollee_id)
        enrollee.call_weekday, enrollee.call_window_start = weekday, start
        enrollee.call_window_end = time(start.hour + 1, start.minute)
        session.commit()


def plan_week(calls, monday: date) -> PlannedCall:
    runtime = calls.live.runtime
    with calls.sessions() as session:
        planner.plan_calls(session, runtime.settings, CallCalendar.from_settings(runtime.settings),
                           monday, 7, calls.clock.now())
        session.commit()
        planned = session.scalars(select(PlannedCall).where(
            PlannedCall.kind == CallKind.COURTESY)).one()
        session.expunge_all()
        return planned


def rung_at(calls) -> datetime:
    with calls.sessions() as session:
        return session.scalars(select(CallAttempt.created_at)).one().astimezone(ROME)


@pytest.mark.parametrize("sunday, utc_hour", [
    (date(2026, 3, 29), 8),  # clocks go forward at 02:00: 10:00 is UTC+2
    (date(2026, 10, 25), 9),  # clocks go back at 03:00: 10:00 is UTC+1
])
def test_a_10_oclock_sunday_slot_rings_at_10_on_the_clock_change(calls, sunday, utc_hour):
    calls.sim.person(LANDLINE, Behaviour.ANSWER, ["1"])
    calls.clock.at = datetime.combine(sunday - timedelta(days=6), time(6), tzinfo=UTC)
    maria = calls.enrol(device=False)
    give_slot(calls, maria, SUNDAY, time(10))
    planned = plan_week(calls, sunday - timedelta(days=6))
    assert planned.planned_at == datetime.combine(sunday, time(utc_hour), tzinfo=UTC)

    calls.clock.at = planned.planned_at - timedelta(seconds=1)
    assert calls.sweep().placed == []
    assert calls.sweep(after_s=1).placed == [planned.id]
    assert rung_at(calls).replace(tzinfo=None) == datetime.combine(sunday, time(10))


@pytest.mark.parametrize("rule, rings_on", [
    ("next_day", date(2026, 12, 9)),
    ("previous_day", date(2026, 12, 7)),
    ("keep", date(2026, 12, 8)),
])
def test_a_slot_on_a_public_holiday_follows_the_rule(calls, rule, rings_on):
    # Tuesday 8 December 2026: the Immacolata, a public holiday throughout Italy.
    runtime = calls.live.runtime
    runtime.settings = runtime.settings.replace(
        calls=replace(runtime.settings.calls, holiday_rule=rule))
    calls.caller.calendar = CallCalendar.from_settings(runtime.settings)
    calls.sim.person(LANDLINE, Behaviour.ANSWER, ["1"])
    calls.clock.at = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    maria = calls.enrol(device=False)
    give_slot(calls, maria, 1, time(11))
    planned = plan_week(calls, date(2026, 12, 7))
    assert planned.occasion == date(2026, 12, 8)
    assert planned.planned_at.astimezone(ROME).replace(tzinfo=None) == datetime.combine(
        rings_on, time(11))

    calls.clock.at = planned.planned_at
    assert calls.sweep().placed == [planned.id]
    assert rung_at(calls).date() == rings_on
