"""`telecare calls plan` and `telecare calls today`, on a database of their own."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import func, select

from telecare.cli import telecare
from telecare.db import make_engine, make_session_factory
from telecare.models import CallMode, Enrollee, PlannedCall, PlannedCallState

MONDAY = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # 08:30 in Milan, before the calling day
_serial = itertools.count(1)


@pytest.fixture
def sessions(server_database):
    engine = make_engine(server_database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def run(server_database, tmp_path):
    def run(*args, **env):
        environ = {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": server_database,
                   "TELECARE_CALLS_OPERATOR_PER_HOUR": "1"}
        environ.update(env)
        return CliRunner().invoke(telecare, ["calls", *args], env=environ)
    return run


def enrol(sessions, last_name, *, weekday=None, hour=None, mode=CallMode.AUTOMATED) -> int:
    with sessions() as session:
        n = next(_serial)
        enrollee = Enrollee(
            first_name="Maria", last_name=last_name, sex="F", birth_date=date(1940, 6, 15),
            codice_fiscale=f"CLI{n:013d}", address_street="Via Padova 10",
            municipality_istat="015146", call_weekday=weekday,
            call_window_start=time(hour) if hour is not None else None,
            call_window_end=time(hour + 1) if hour is not None else None, call_mode=mode,
            enrolled_at=MONDAY, state_changed_at=MONDAY, updated_at=MONDAY)
        session.add(enrollee)
        session.commit()
        return enrollee.id


def planned_count(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(PlannedCall))


def test_plan_shows_the_week_per_day_and_hour_and_marks_hours_over_capacity(sessions, run):
    enrol(sessions, "Rossi", weekday=0, hour=10)
    enrol(sessions, "Bianchi", weekday=0, hour=10, mode=CallMode.OPERATOR)
    enrol(sessions, "Colombo", weekday=0, hour=10, mode=CallMode.OPERATOR)
    enrol(sessions, "Ferrari")  # new: the planner gives a slot

    result = run("plan", "--from", "2026-11-30")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "assigned a slot to 1 new enrollees; cancelled 0 calls" in lines[0]
    assert lines[1] == "created 4 courtesy, 0 reassurance, 0 birthday"
    assert "automated/operator; capacity 600/1; * over capacity" in lines[2]
    header = lines[3].split()
    assert header[0] == "09:00" and header[-1] == "19:00"
    monday = lines[4].split()
    assert monday[:2] == ["Mon", "2026-11-30"]
    assert monday[2 + header.index("10:00")] == "1/2*"
    assert [line.split()[0] for line in lines[4:11]] == [
        "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert "over capacity: Mon 2026-11-30 10:00 operator 2 > 1" in lines
    assert lines[-1] == ("4 calls planned 2026-11-30 to 2026-12-06 (automated 2, operator 2);"
                         " 1 hours over capacity")

    again = run("plan", "--from", "2026-11-30")
    assert again.exit_code == 0, again.output
    assert "created 0 courtesy, 0 reassurance, 0 birthday" in again.output
    assert planned_count(sessions) == 4


def test_a_dry_run_shows_the_load_and_changes_nothing(sessions, run):
    enrol(sessions, "Rossi", weekday=2, hour=15)
    enrol(sessions, "Ferrari")

    result = run("plan", "--from", "2026-11-30", "--days", "3", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "dry run: nothing changed; 1 active enrollees without a slot yet" in result.output
    assert "0 calls planned 2026-11-30 to 2026-12-02" in result.output
    assert planned_count(sessions) == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrollee)
                              .where(Enrollee.call_weekday.is_(None))) == 1


def test_plan_defaults_to_today_and_the_configured_days(sessions, run):
    enrol(sessions, "Rossi", weekday=6, hour=10)

    with time_machine.travel(MONDAY, tick=False):
        result = run("plan", TELECARE_CALLS_PLAN_DAYS="14")

    assert result.exit_code == 0, result.output
    assert "2 calls planned 2026-11-30 to 2026-12-13" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "30/11/2026"], "Invalid value for '--from'"),
    (["--days", "0"], "Invalid value for '--days'"),
    (["--days", "many"], "Invalid value for '--days'"),
])
def test_plan_names_the_option_it_cannot_read(run, args, message):
    result = run("plan", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_today_lists_the_days_calls_in_local_time_order(sessions, run):
    late = enrol(sessions, "Rossi", weekday=0, hour=16, mode=CallMode.OPERATOR)
    enrol(sessions, "Bianchi", weekday=0, hour=9)
    enrol(sessions, "Colombo", weekday=1, hour=9)  # tomorrow

    with time_machine.travel(MONDAY, tick=False):
        assert run("plan").exit_code == 0
        with sessions() as session:
            call = session.scalar(select(PlannedCall).where(PlannedCall.enrollee_id == late))
            call.state, call.attempts = PlannedCallState.CALLING, 1
            session.commit()
        result = run("today")
        calling = run("today", "--state", "calling")
        done = run("today", "--state", "done")

    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert lines[0] == ["time", "enrollee", "mode", "kind", "state", "attempts", "result"]
    assert lines[1] == ["09:00", "Maria", "Bianchi", "automated", "courtesy", "planned", "0", "-"]
    assert lines[2] == ["16:00", "Maria", "Rossi", "operator", "courtesy", "calling", "1", "-"]
    assert result.output.splitlines()[-1] == "2 calls on 2026-11-30 (Europe/Rome)"
    assert "Rossi" in calling.output and "Bianchi" not in calling.output
    assert done.output.strip() == "no planned calls on 2026-11-30 in state done"


def test_today_refuses_an_unknown_state(run):
    result = run("today", "--state", "sleeping")
    assert result.exit_code == 2
    assert "Invalid value for '--state'" in result.output


@pytest.mark.parametrize("command", ["plan", "today"])
def test_each_command_explains_itself(run, command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and "--help" in result.output
