"""Two processes sweeping one database through a simulated week: every call placed once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from telecare.actor import Actor
from telecare.courtesy import planner
from telecare.courtesy.calendar import CallCalendar
from telecare.db import make_engine, make_session_factory
from telecare.enrolment.seed import seed_enrollees
from telecare.models import Alarm, AlarmKind, PlannedCall, PlannedCallLog, PlannedCallState
from telecare.settings import DatabaseSettings, EnrolmentSettings, Settings

MONDAY = date(2026, 11, 30)
START = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # Monday 00:00 in Milan
END = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # past Sunday's last retries
WEEK_SECONDS = 30  # the processes' clock: a week of calls in half a minute


def start_caller(url: str, log: Path, wall_start: float, factor: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.courtesy.caller_process", url, str(log),
         f"{START.isoformat()}@{wall_start}", str(factor)],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True,
        stderr=(log.parent / f"caller-{time.monotonic_ns()}.err").open("w"))
    assert process.stdout.readline().strip() == "caller running"
    return process


@pytest.mark.slow
def test_two_callers_make_a_week_of_calls_each_exactly_once(server_database, tmp_path):
    # PostgreSQL is what several schedulers share in production: the full 5,000 there.
    enrollees = 5000 if server_database.startswith("postgresql") else 1000
    settings = Settings(database=DatabaseSettings(url=server_database))
    calendar = CallCalendar.from_settings(settings)
    engine = make_engine(server_database)
    sessions = make_session_factory(engine)
    seed_enrollees(sessions, enrollees, Actor.system(), START, EnrolmentSettings(), seed=6,
                   contacts=1)
    with sessions() as session:
        planner.assign_slots(session, settings, calendar, START)
        report = planner.plan_calls(session, settings, calendar, MONDAY, 7, START)
        session.commit()
        planned = session.scalar(select(func.count()).select_from(PlannedCall))
        silent = session.scalar(select(func.count()).select_from(PlannedCall)
                                .where(PlannedCall.enrollee_id % 10 == 0))
        silent_people = session.scalar(select(func.count()).select_from(PlannedCall).where(
            PlannedCall.enrollee_id % 10 == 0, PlannedCall.kind == "courtesy"))
    assert report.created["courtesy"] == enrollees

    log = tmp_path / "phones.log"
    factor = (END - START).total_seconds() / WEEK_SECONDS
    wall_start = time.time()
    callers = [start_caller(server_database, log, wall_start, factor) for _ in range(2)]
    try:
        def open_calls() -> int:
            with sessions() as session:
                return session.scalar(select(func.count()).select_from(PlannedCall).where(
                    PlannedCall.state.in_([PlannedCallState.PLANNED,
                                           PlannedCallState.CALLING])))

        deadline = time.monotonic() + WEEK_SECONDS + 180
        while open_calls() and time.monotonic() < deadline:
            time.sleep(1)
        assert open_calls() == 0, "every call of the week was made"
    finally:
        for process in callers:
            process.send_signal(signal.SIGTERM)
            process.wait(15)
        engine.dispose()

    placed = [tuple(line.split()) for line in log.read_text().splitlines()]
    assert {pid for pid, _, _ in placed} == {str(p.pid) for p in callers}, "both did calls"
    per_attempt = Counter((call, attempt) for _, call, attempt in placed)
    assert max(per_attempt.values()) == 1, "no attempt placed twice"
    # Everyone answering is rung once; the silent tenth three times, then an alarm each.
    assert len(placed) == (planned - silent) + 3 * silent
    with make_session_factory(make_engine(server_database))() as session:
        states = Counter(session.scalars(select(PlannedCall.state)))
        alarms = session.scalar(select(func.count()).select_from(Alarm).where(
            Alarm.kind == AlarmKind.MISSED_COURTESY_CALLS))
        per_call = dict(session.execute(select(PlannedCall.id, PlannedCall.attempts)).all())
        odd = [(entry.planned_call_id, entry.attempt, entry.result.value, entry.detail)
               for entry in session.scalars(select(PlannedCallLog).where(
                   PlannedCallLog.planned_call_id.in_(
                       [c for c, n in per_call.items() if n == 2])))]
    assert states == {PlannedCallState.DONE: planned - silent, PlannedCallState.MISSED: silent}
    assert alarms == silent_people  # one each: a missed birthday call raises none
    assert Counter(per_call.values()) == {1: planned - silent, 3: silent}, odd[:10]
