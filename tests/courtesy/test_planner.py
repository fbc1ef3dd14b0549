"""The weekly planner: slots within capacity, planned calls made once, clock changes,
holidays, birthdays, reassurance after an alarm, calls of ended enrolments cancelled."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from telecare import alarms
from telecare.courtesy import planner
from telecare.courtesy.calendar import CallCalendar
from telecare.models import (
    AlarmKind,
    CallKind,
    CallMode,
    Enrollee,
    EnrolleeState,
    PlannedCall,
    PlannedCallState,
    Severity,
)
from telecare.settings import CallsSettings
from tests.conftest import NOW

_serial = itertools.count(1)


def person(session, *, weekday=None, window=None, mode=CallMode.AUTOMATED,
           state=EnrolleeState.ACTIVE, born=date(1940, 6, 15)) -> Enrollee:
    """An enrollee with just what planning reads; `window` is the hour their slot starts."""
    n = next(_serial)
    enrollee = Enrollee(
        first_name="Maria", last_name=f"Rossi{n}", sex="F", birth_date=born,
        codice_fiscale=f"PLAN{n:012d}", address_street="Via Padova 10",
        municipality_istat="015146", call_weekday=weekday,
        call_window_start=time(window) if window is not None else None,
        call_window_end=time(window + 1) if window is not None else None,
        call_mode=mode, state=state, enrolled_at=NOW, state_changed_at=NOW, updated_at=NOW)
    session.add(enrollee)
    session.flush()
    return enrollee


def configured(settings, **calls):
    """The test settings with these [calls] values; birthdays and reassurance off unless
    asked, so each test sees only the calls it is about."""
    calls = {"birthday": False, "reassurance": False} | calls
    settings = settings.replace(calls=CallsSettings(**calls))
    return settings, CallCalendar.from_settings(settings)


def planned(session, **where) -> list[PlannedCall]:
    query = select(PlannedCall).order_by(PlannedCall.enrollee_id, PlannedCall.occasion)
    for name, value in where.items():
        query = query.where(getattr(PlannedCall, name) == value)
    return list(session.scalars(query))


def slots(session, mode=CallMode.AUTOMATED) -> Counter:
    rows = session.execute(select(Enrollee.call_weekday, Enrollee.call_window_start)
                           .where(Enrollee.call_mode == mode,
                                  Enrollee.call_weekday.is_not(None)))
    return Counter((weekday, start.hour if start else None) for weekday, start in rows)


# --- slots ----------------------------------------------------------------------------------

def test_it_gives_newcomers_one_hour_windows_in_the_calling_day(session, settings):
    settings, calendar = configured(settings, day_start="09:00", day_end="12:00")
    newcomers = [person(session) for _ in range(5)]

    assert planner.assign_slots(session, settings, calendar, NOW) == 5

    for enrollee in newcomers:
        session.refresh(enrollee)
        assert 0 <= enrollee.call_weekday <= 6
        assert enrollee.call_window_start.hour in (9, 10, 11)
        assert enrollee.call_window_start.minute == 0
        assert enrollee.call_window_end == time(enrollee.call_window_start.hour + 1)


def test_it_fills_the_emptiest_hours_and_counts_existing_slots(session, settings):
    # 3 hours a day: 21 cells of capacity 2.
    settings, calendar = configured(settings, day_start="09:00", day_end="12:00",
                                    automated_per_hour=2)
    person(session, weekday=0, window=9)
    person(session, weekday=0, window=9)  # Monday 09:00 is full
    for _ in range(19):
        person(session)

    assert planner.assign_slots(session, settings, calendar, NOW) == 19

    load = slots(session)
    assert load[(0, 9)] == 2  # nobody added to the full hour
    assert max(load.values()) <= 2
    # 19 newcomers, 20 empty cells: one each.
    assert sum(1 for n in load.values() if n == 1) == 19


def test_a_weekday_without_a_time_gets_the_quietest_hours_of_that_day(session, settings):
    settings, calendar = configured(settings, day_start="09:00", day_end="12:00",
                                    automated_per_hour=2)
    person(session, weekday=1, window=9)
    person(session, weekday=1, window=9)  # Tuesday 09:00 is full
    for _ in range(4):
        person(session, weekday=1)  # Tuesday, any time

    assert planner.assign_slots(session, settings, calendar, NOW) == 4

    load = slots(session)
    assert load == {(1, 9): 2, (1, 10): 2, (1, 11): 2}  # their day kept, the hours spread


def test_it_keeps_each_hour_within_capacity_while_any_has_room(session, settings):
    settings, calendar = configured(settings, day_start="09:00", day_end="11:00",
                                    automated_per_hour=3)
    for _ in range(14 * 3):  # exactly the week's capacity: 14 cells of 3
        person(session)

    planner.assign_slots(session, settings, calendar, NOW)

    assert set(slots(session).values()) == {3}
    assert len(slots(session)) == 14


def test_it_spreads_evenly_what_does_not_fit_and_the_load_shows_it(session, settings):
    settings, calendar = configured(settings, day_start="09:00", day_end="10:00",
                                    automated_per_hour=1)
    for _ in range(9):  # 7 cells of capacity 1: two people too many
        person(session)

    planner.assign_slots(session, settings, calendar, NOW)
    report = planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 7, NOW)

    assert sorted(slots(session).values()) == [1, 1, 1, 1, 1, 2, 2]
    over = report.load.over_capacity()
    assert [(o.day.weekday(), o.hour, o.mode, o.count, o.capacity) for o in over] == [
        (0, 9, CallMode.AUTOMATED, 2, 1), (1, 9, CallMode.AUTOMATED, 2, 1)]


def test_each_mode_has_its_own_capacity(session, settings):
    settings, calendar = configured(settings, day_start="09:00", day_end="10:00",
                                    automated_per_hour=100, operator_per_hour=1)
    for _ in range(7):
        person(session, weekday=0, window=9)  # Monday 09:00: busy with automated calls
    for _ in range(7):
        person(session, mode=CallMode.OPERATOR)

    planner.assign_slots(session, settings, calendar, NOW)

    # The operators' week is empty: one operator call on each day, Monday included.
    assert slots(session, CallMode.OPERATOR) == Counter({(day, 9): 1 for day in range(7)})


def test_it_leaves_alone_who_has_a_slot_or_is_not_active(session, settings):
    settings, calendar = configured(settings)
    chosen = person(session, weekday=3, window=16)
    suspended = person(session, state=EnrolleeState.SUSPENDED)

    assert planner.assign_slots(session, settings, calendar, NOW) == 0

    session.refresh(chosen)
    session.refresh(suspended)
    assert (chosen.call_weekday, chosen.call_window_start) == (3, time(16))
    assert suspended.call_weekday is None


def test_spread_fills_to_a_common_level():
    loads = {(0, 9): 5, (0, 10): 1, (0, 11): 0}
    assert planner.spread(loads, 4) == {(0, 10): 2, (0, 11): 2}
    assert planner.spread(loads, 5) == {(0, 10): 2, (0, 11): 3}
    assert planner.spread(loads, 0) == {}


# --- planned calls ----------------------------------------------------------------------------

def test_it_plans_each_weekly_call_once_however_often_it_runs(session, settings):
    settings, calendar = configured(settings)
    monday = person(session, weekday=0, window=15, mode=CallMode.OPERATOR)
    friday = person(session, weekday=4, window=9)
    first = date(2026, 11, 30)  # a Monday

    report = planner.plan_calls(session, settings, calendar, first, 7, NOW)
    again = planner.plan_calls(session, settings, calendar, first, 7, NOW)

    assert report.created[CallKind.COURTESY] == 2
    assert again.total_created == 0
    calls = planned(session)
    assert [(c.enrollee_id, c.kind, c.mode, c.occasion) for c in calls] == [
        (monday.id, CallKind.COURTESY, CallMode.OPERATOR, date(2026, 11, 30)),
        (friday.id, CallKind.COURTESY, CallMode.AUTOMATED, date(2026, 12, 4))]
    assert calls[0].planned_at == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 15:00 in Rome
    for call in calls:
        assert call.state == PlannedCallState.PLANNED
        assert call.attempts == 0
        assert call.next_attempt_at == call.planned_at
    assert report.load.total() == 2


def test_a_longer_range_plans_every_week_in_it(session, settings):
    settings, calendar = configured(settings)
    enrollee = person(session, weekday=2, window=10)

    planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 14, NOW)

    assert [c.occasion for c in planned(session, enrollee_id=enrollee.id)] == [
        date(2026, 12, 2), date(2026, 12, 9)]


def test_a_slot_without_a_window_rings_at_day_start(session, settings):
    settings, calendar = configured(settings, day_start="09:30")
    person(session, weekday=0)

    planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 1, NOW)

    assert planned(session)[0].planned_at == datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(("sunday", "utc_hour"), [
    (date(2026, 3, 29), 8),   # clocks went forward at 02:00: 10:00 is UTC+2
    (date(2026, 10, 25), 9),  # clocks went back at 03:00: 10:00 is UTC+1
])
def test_a_sunday_slot_keeps_its_local_time_on_the_days_the_clocks_change(
        session, settings, sunday, utc_hour):
    settings, calendar = configured(settings)
    person(session, weekday=6, window=10)

    planner.plan_calls(session, settings, calendar, sunday, 1, NOW)

    call = planned(session)[0]
    assert call.occasion == sunday
    assert call.planned_at == datetime.combine(sunday, time(utc_hour), tzinfo=UTC)


@pytest.mark.parametrize(("rule", "rings_on"), [
    ("next_day", date(2026, 12, 9)),
    ("previous_day", date(2026, 12, 7)),
    ("keep", date(2026, 12, 8)),
])
def test_a_call_on_a_holiday_moves_by_the_configured_rule(session, settings, rule, rings_on):
    settings, calendar = configured(settings, holiday_rule=rule)
    person(session, weekday=1, window=10)  # Tuesdays; 8 December is the Immacolata

    planner.plan_calls(session, settings, calendar, date(2026, 12, 7), 7, NOW)

    call = planned(session)[0]
    assert call.occasion == date(2026, 12, 8)  # the nominal day: planned once, wherever moved
    assert call.planned_at == datetime.combine(rings_on, time(9), tzinfo=UTC)


def test_christmas_moves_past_santo_stefano_too(session, settings):
    settings, calendar = configured(settings, holiday_rule="next_day")
    person(session, weekday=4, window=10)  # Fridays; 25 and 26 December are holidays

    planner.plan_calls(session, settings, calendar, date(2026, 12, 21), 7, NOW)

    assert planned(session)[0].planned_at == datetime(2026, 12, 27, 9, tzinfo=UTC)


def test_it_plans_nothing_for_enrollees_no_longer_active(session, settings):
    settings, calendar = configured(settings)
    person(session, weekday=0, window=10, state=EnrolleeState.SUSPENDED)
    person(session, weekday=0, window=10, state=EnrolleeState.ENDED)

    report = planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 7, NOW)

    assert report.total_created == 0


# --- birthdays and reassurance ---------------------------------------------------------------

def test_it_greets_on_the_birthday_at_the_configured_time(session, settings):
    settings, calendar = configured(settings, birthday=True, birthday_time="11:00")
    born_today = person(session, born=date(1940, 12, 1))
    person(session, born=date(1940, 12, 10))  # outside the week

    report = planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 7, NOW)

    assert report.created[CallKind.BIRTHDAY] == 1
    [call] = planned(session, kind=CallKind.BIRTHDAY)
    assert (call.enrollee_id, call.mode, call.occasion) == (
        born_today.id, CallMode.AUTOMATED, date(2026, 12, 1))
    assert call.planned_at == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 7,
                              NOW).total_created == 0


@pytest.mark.parametrize(("first", "greeted_on"), [
    (date(2027, 2, 22), date(2027, 2, 28)),  # not a leap year: on the 28th
    (date(2028, 2, 23), date(2028, 2, 29)),  # a leap year: on the day itself
])
def test_someone_born_on_29_february_is_greeted_every_year(session, settings, first,
                                                            greeted_on):
    settings, calendar = configured(settings, birthday=True)
    leapling = person(session, born=date(1944, 2, 29))

    planner.plan_calls(session, settings, calendar, first, 7, NOW)

    assert [(c.enrollee_id, c.occasion) for c in planned(session, kind=CallKind.BIRTHDAY)] \
        == [(leapling.id, greeted_on)]


def test_no_birthday_calls_when_they_are_switched_off(session, settings):
    settings, calendar = configured(settings, birthday=False)
    person(session, born=date(1940, 12, 1))

    assert planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 7,
                              NOW).total_created == 0


def test_an_alarm_yesterday_gets_a_reassurance_call_today(session, settings):
    settings, calendar = configured(settings, reassurance=True, reassurance_time="10:00")
    pressed = person(session)
    offline = person(session)
    earlier = person(session)
    yesterday = NOW - timedelta(days=1)
    alarms.raise_alarm(session, enrollee_id=pressed.id, kind=AlarmKind.BUTTON,
                       severity=Severity.CRITICAL, now=yesterday)
    alarms.raise_alarm(session, enrollee_id=offline.id, kind=AlarmKind.DEVICE_OFFLINE,
                       severity=Severity.LOW, now=yesterday)
    alarms.raise_alarm(session, enrollee_id=earlier.id, kind=AlarmKind.FALL,
                       severity=Severity.CRITICAL, now=NOW - timedelta(days=2))
    today = calendar.local(NOW).date()

    report = planner.plan_calls(session, settings, calendar, today, 7, NOW)

    assert report.created[CallKind.REASSURANCE] == 1
    [call] = planned(session, kind=CallKind.REASSURANCE)
    assert (call.enrollee_id, call.mode, call.occasion) == (pressed.id, CallMode.OPERATOR,
                                                            today)
    assert call.planned_at == calendar.at(today, time(10))
    assert planner.plan_calls(session, settings, calendar, today, 7, NOW).total_created == 0


def test_an_alarm_today_gets_its_call_tomorrow(session, settings):
    settings, calendar = configured(settings, reassurance=True)
    fallen = person(session)
    alarms.raise_alarm(session, enrollee_id=fallen.id, kind=AlarmKind.FALL,
                       severity=Severity.CRITICAL, now=NOW)
    today = calendar.local(NOW).date()

    planner.plan_calls(session, settings, calendar, today, 7, NOW)

    assert [c.occasion for c in planned(session, kind=CallKind.REASSURANCE)] == [
        today + timedelta(days=1)]


# --- ended enrolments, load -------------------------------------------------------------------

def test_calls_not_yet_made_are_cancelled_when_the_enrolment_ends(session, settings):
    settings, calendar = configured(settings)
    leaving = person(session, weekday=0, window=10)
    staying = person(session, weekday=0, window=11)
    first = date(2026, 11, 30)
    planner.plan_calls(session, settings, calendar, first, 14, NOW)
    made = planned(session, enrollee_id=leaving.id)[0]
    made.state = PlannedCallState.DONE
    leaving.state = EnrolleeState.ENDED
    session.flush()

    assert planner.cancel_for_ended(session, NOW) == 1

    states = [(c.occasion, c.state, c.next_attempt_at) for c in planned(
        session, enrollee_id=leaving.id)]
    assert states == [(first, PlannedCallState.DONE, made.next_attempt_at),
                      (date(2026, 12, 7), PlannedCallState.CANCELLED, None)]
    assert {c.state for c in planned(session, enrollee_id=staying.id)} == {
        PlannedCallState.PLANNED}
    # Back to active, the cancelled call is not made again; the following ones are planned.
    leaving.state = EnrolleeState.ACTIVE
    session.flush()
    report = planner.plan_calls(session, settings, calendar, first, 21, NOW)
    assert report.created[CallKind.COURTESY] == 2  # 14 December, one each
    assert session.scalar(select(func.count()).select_from(PlannedCall)) == 6


def test_the_load_counts_local_hours_and_leaves_out_cancelled_calls(session, settings):
    settings, calendar = configured(settings, automated_per_hour=1, operator_per_hour=5)
    person(session, weekday=0, window=10)
    person(session, weekday=0, window=10)
    person(session, weekday=0, window=10, mode=CallMode.OPERATOR)
    gone = person(session, weekday=0, window=12)
    first = date(2026, 11, 30)
    planner.plan_calls(session, settings, calendar, first, 7, NOW)
    gone.state = EnrolleeState.ENDED
    session.flush()
    planner.cancel_for_ended(session, NOW)

    load = planner.load(session, settings, calendar, first, 7)

    assert load.count(first, 10, CallMode.AUTOMATED) == 2
    assert load.count(first, 10, CallMode.OPERATOR) == 1
    assert load.count(first, 12, CallMode.AUTOMATED) == 0
    assert load.total() == 3
    assert [(o.day, o.hour, o.mode, o.count, o.capacity) for o in load.over_capacity()] == [
        (first, 10, CallMode.AUTOMATED, 2, 1)]
    assert load.hours == list(range(9, 20))


def test_it_refuses_an_empty_range(session, settings):
    settings, calendar = configured(settings)
    with pytest.raises(ValueError, match="days: expected at least 1"):
        planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 0, NOW)


def test_two_planners_at_once_create_each_call_once(server_database, settings):
    """Two processes' worth of planners, each with its own connection, committing for real."""
    import threading

    from telecare.db import make_engine, make_session_factory

    settings, calendar = configured(settings, birthday=True)
    engine = make_engine(server_database)
    sessions = make_session_factory(engine)
    with sessions() as session:
        for n in range(300):
            person(session, weekday=n % 7, window=9 + n % 11, born=date(1940, 12, 1 + n % 6))
        session.commit()
    start = threading.Barrier(2)
    created, failures = [], []

    def plan() -> None:
        try:
            with sessions() as session:
                start.wait()
                report = planner.plan_calls(session, settings, calendar, date(2026, 11, 30), 7,
                                            NOW)
                session.commit()
                created.append(report.total_created)
        except Exception as exc:  # reported below: a thread's exception would be lost
            failures.append(exc)

    planners = [threading.Thread(target=plan) for _ in range(2)]
    for thread in planners:
        thread.start()
    for thread in planners:
        thread.join()
    with sessions() as session:
        rows = session.scalar(select(func.count()).select_from(PlannedCall))
    engine.dispose()

    assert failures == []
    assert sum(created) == 600 == rows  # 300 weekly calls, 300 birthdays


@pytest.mark.parametrize(("start", "end", "hours"), [
    ("09:00", "20:00", list(range(9, 20))),
    ("09:30", "20:30", list(range(10, 20))),  # whole hours only: 10:00 to 20:00
    ("23:10", "23:50", [22]),  # no whole hour: rung at day_start, the window ends by 23:00
])
def test_windows_are_the_whole_hours_of_the_calling_day(settings, start, end, hours):
    _settings, calendar = configured(settings, day_start=start, day_end=end)
    assert planner.calling_hours(calendar) == hours


def test_a_slot_counts_in_the_hour_it_really_rings(settings):
    _settings, calendar = configured(settings)  # 09:00 to 20:00
    assert planner.ringing_cell(calendar, 0, time(10, 30)) == (0, 10)
    assert planner.ringing_cell(calendar, 0, None) == (0, 9)
    assert planner.ringing_cell(calendar, 0, time(7)) == (0, 9)  # too early: at day_start
    assert planner.ringing_cell(calendar, 6, time(20)) == (0, 9)  # too late: next morning
