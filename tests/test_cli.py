"""The `telecare` command on a real database file, as an operator would run it."""

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from telecare.cli import telecare


def run(tmp_path, *args, input=None, env=None):
    environ = {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": ""}
    environ.update(env or {})
    return CliRunner().invoke(telecare, list(args), input=input, env=environ)


def test_it_creates_the_schema_and_the_first_admin(tmp_path):
    upgraded = run(tmp_path, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "database at heads" in upgraded.output

    created = run(tmp_path, "users", "create", "Admin", "--role", "admin",
                  "--name", "Mario Bianchi", input="correct horse battery\ncorrect horse battery\n")
    assert created.exit_code == 0, created.output
    assert "created admin admin" in created.output

    engine = create_engine(f"sqlite:///{tmp_path / 'telecare.db'}")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT username, role, password_hash FROM app_user")).one()
    assert row.username == "admin" and row.role == "admin"
    assert row.password_hash.startswith("$argon2")
    assert run(tmp_path, "db", "check").exit_code == 0


def test_it_refuses_a_short_password_naming_the_field(tmp_path):
    run(tmp_path, "db", "upgrade")
    result = run(tmp_path, "users", "create", "x", "--password", "short")
    assert result.exit_code == 1
    assert "password: must be at least 12 characters" in result.output


def test_it_issues_a_token_shown_once_and_stored_as_a_hash(tmp_path):
    run(tmp_path, "db", "upgrade")
    run(tmp_path, "users", "create", "api", "--role", "social_worker",
        "--password", "a long enough password")
    result = run(tmp_path, "users", "token", "api", "--name", "anagrafe")
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("tc_")
    engine = create_engine(f"sqlite:///{tmp_path / 'telecare.db'}")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT name, token_hash FROM api_token")).one()
    assert stored.name == "anagrafe"
    assert secret not in stored.token_hash


def test_a_database_never_upgraded_is_said_in_one_line_by_every_command(tmp_path):
    for command in (["users", "list"], ["calls", "today"], ["privacy", "erase-due"]):
        result = run(tmp_path, *command)
        assert result.exit_code == 1, (command, result.output)
        assert "database: no such table" in result.output, (command, result.output)
        assert "telecare db upgrade" in result.output
        assert "Traceback" not in result.output


def test_it_stops_on_a_malformed_setting_naming_the_variable(tmp_path):
    result = run(tmp_path, "db", "upgrade", env={"TELECARE_ENROLMENT_MINIMUM_AGE": "old"})
    assert result.exit_code == 1
    assert "TELECARE_ENROLMENT_MINIMUM_AGE: expected a whole number, got 'old'" in result.output


def test_the_scheduler_role_takes_up_an_alarm_plans_the_calls_and_stops_on_sigterm(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from datetime import UTC, datetime

    from telecare import alarms
    from telecare.db import make_session_factory
    from telecare.models import AlarmKind, Severity

    assert run(tmp_path, "db", "upgrade").exit_code == 0
    assert run(tmp_path, "seed", "--enrollees", "5").exit_code == 0
    url = f"sqlite:///{tmp_path / 'telecare.db'}"
    sessions = make_session_factory(create_engine(url))
    with sessions() as session:
        alarm, _ = alarms.raise_alarm(session, enrollee_id=None, kind=AlarmKind.BUTTON,
                                      severity=Severity.CRITICAL, now=datetime.now(UTC))
        session.commit()
        alarm_id = alarm.id
    environ = os.environ | {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": ""}
    process = subprocess.Popen([sys.executable, "-m", "telecare.cli", "serve", "--role",
                                "scheduler"], env=environ, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        step = -1
        while step < 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            with sessions() as session:
                step = session.execute(text("SELECT step FROM alarm WHERE id = :id"),
                                       {"id": alarm_id}).scalar_one()
        assert step == 0, "the engine took the alarm up: its ladder's first step"
        planned = 0
        while planned < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
            with sessions() as session:
                planned = session.execute(text(
                    "SELECT count(*) FROM planned_call WHERE kind = 'courtesy'")).scalar_one()
        assert planned == 5, "the week's courtesy calls were planned, one each"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Traceback" not in output
