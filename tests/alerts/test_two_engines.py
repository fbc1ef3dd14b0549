"""Two escalation engines on one database: every step once, nobody phoned twice, and what a
killed engine was doing is finished by the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from telecare import alarms
from telecare.actor import Actor
from telecare.db import make_engine, make_session_factory
from telecare.enrolment.seed import seed_enrollees
from telecare.models import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    AlarmNotification,
    Enrollee,
    NotificationState,
    Severity,
)
from telecare.settings import EnrolmentSettings

ALARMS = 1000
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FACTOR = 6  # the engines' clock: six seconds of ladder per second of test
POLICIES = """
[policies.button]
time_box_minutes = 60
ack_timeout_minutes = 30
quiet_hours = false
steps = [
  { action = "queue", timeout_s = 10 },
  { action = "callback", timeout_s = 10 },
  { action = "contacts", timeout_s = 10 },
  { action = "supervisor", timeout_s = 10 },
  { action = "emergency" },
]
[policies.default]
time_box_minutes = 60
ack_timeout_minutes = 60
steps = [{ action = "queue" }]

[emergency.services]
general = { name = "112", number = "112" }
"""


def start_engine(url: str, policies: Path, log: Path, wall_start: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.engine_process", url, str(policies), str(log),
         f"{START.isoformat()}@{wall_start}", str(FACTOR)],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True,
        stderr=(log.parent / f"engine-{time.monotonic_ns()}.err").open("w"))
    assert process.stdout.readline().strip() == "engine running"
    return process


@pytest.mark.slow
def test_two_engines_walk_1000_ladders_once_and_survive_one_being_killed(server_database,
                                                                          tmp_path):
    engine = make_engine(server_database)
    sessions = make_session_factory(engine)
    seed_enrollees(sessions, ALARMS, Actor.system(), START, EnrolmentSettings(), seed=5,
                   contacts=2)
    with sessions() as session:
        people = session.scalars(select(Enrollee.id).order_by(Enrollee.id)).all()
        for enrollee_id in people:
            alarms.raise_alarm(session, enrollee_id=enrollee_id, kind=AlarmKind.BUTTON,
                               severity=Severity.CRITICAL, now=START)
        session.commit()
    policies = tmp_path / "escalation.toml"
    policies.write_text(POLICIES)
    log = tmp_path / "phones.log"
    wall_start = time.time()
    first = start_engine(server_database, policies, log, wall_start)
    second = start_engine(server_database, policies, log, wall_start)
    try:
        # Both mid-ladder: killed once it has placed some calls (a busy machine may take a
        # few seconds to start it), with callbacks and contacts still under way.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                line.startswith(f"{first.pid} ")
                for line in (log.read_text().splitlines() if log.exists() else [])):
            time.sleep(0.1)
        time.sleep(1.0)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)

        def finished() -> int:
            with sessions() as session:
                return session.scalar(select(func.count()).select_from(Alarm).where(
                    Alarm.escalated_at.is_not(None), Alarm.next_step_at.is_(None)))

        deadline = time.monotonic() + 120
        while finished() < ALARMS and time.monotonic() < deadline:
            time.sleep(0.5)
        assert finished() == ALARMS, "every alarm reached the emergency step"

        def waiting() -> int:
            with sessions() as session:
                return session.scalar(select(func.count()).select_from(AlarmNotification)
                                      .where(AlarmNotification.state
                                             == NotificationState.PENDING))

        while waiting() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert waiting() == 0, "every call and text decided was placed"
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(15)
        engine.dispose()

    placed = [line.split() for line in log.read_text().splitlines()]
    by_pid = Counter(pid for pid, *_ in placed)
    assert set(by_pid) == {str(first.pid), str(second.pid)}, "both engines did some of the work"
    calls = Counter(notification for _, kind, _, notification in placed if kind == "call")
    assert max(calls.values()) == 1, "no notification placed twice"
    with make_session_factory(make_engine(server_database))() as session:
        steps = session.execute(
            select(AlarmEvent.alarm_id, AlarmEvent.detail).where(AlarmEvent.kind == "step")).all()
        per_alarm_step = Counter((alarm_id, detail["step"]) for alarm_id, detail in steps)
        assert max(per_alarm_step.values()) == 1, "every step happened once"
        assert len(per_alarm_step) == ALARMS * 6  # queue, call-back, 2 contacts, supervisor, 112
        states = Counter(session.scalars(select(AlarmNotification.state)).all())
        voice = session.execute(select(AlarmNotification.number, AlarmNotification.alarm_id)
                                .where(AlarmNotification.channel == "voice")).all()
    assert max(Counter(voice).values()) == 1, "nobody phoned twice about one alarm"
    # Each placed call or text is recorded as sent, but for those the killed engine placed
    # and had no time to record (still held, or given up as failed after the lease).
    sent, held = states[NotificationState.SENT], states[NotificationState.SENDING]
    assert sent <= len(placed) <= sent + held + states[NotificationState.FAILED]
    # Only what the killed engine held between claiming and placing can be left unplaced:
    # never placed twice, given up after a lease, and on the timeline for an operator.
    assert states[NotificationState.SENDING] + states[NotificationState.FAILED] <= 200
