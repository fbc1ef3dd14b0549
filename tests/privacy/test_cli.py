"""`telecare privacy erase-due | erase | export` on a database of their own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import select

from telecare.cli import telecare
from telecare.db import make_engine, make_session_factory
from telecare.models import AuditEntry, Enrollee
from tests.privacy.conftest import ENDED, make_person


@pytest.fixture
def sessions(server_database):
    engine = make_engine(server_database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def person(sessions, settings):
    with sessions() as session:
        return make_person(session, settings, first="Ermenegilda", last="Zanardelli",
                           street="Via Quarenghi 77", phone="02 8765 4321",
                           mobile="348 111 2233", contact="Teodolinda Brambilla",
                           contact_phone="333 444 5566", health="Pacemaker dal 2019",
                           note="Preoccupata per la bolletta", serial="PND-ERM-1")


@pytest.fixture
def run(server_database, tmp_path):
    def run(*args, at=ENDED + timedelta(days=365)):
        environ = {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": server_database}
        with time_machine.travel(at, tick=False):
            return CliRunner().invoke(telecare, ["privacy", *args], env=environ)
    return run


def erased_at(sessions, person):
    with sessions() as session:
        return session.get(Enrollee, person.enrollee_id).erased_at


def test_erase_due_lists_then_erases_who_is_due(sessions, person, run):
    early = run("erase-due", at=ENDED + timedelta(days=364))
    assert early.exit_code == 0, early.output
    assert "erased the personal data of 0 ended enrolments" in early.output

    dry = run("erase-due", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"record {person.enrollee_id}: ended {ENDED.date().isoformat()}, due for erasure" \
        in dry.output
    assert "dry run: nothing erased; 1 due, 0 waiting (retention 365 days" in dry.output
    assert erased_at(sessions, person) is None

    done = run("erase-due")
    assert done.exit_code == 0, done.output
    assert "erased the personal data of 1 ended enrolments; 0 waiting" in done.output
    assert erased_at(sessions, person) is not None
    again = run("erase-due")
    assert "erased the personal data of 0 ended enrolments" in again.output
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
        assert entry.actor.startswith("cli:") and entry.entity_id == person.enrollee_id


def test_erase_on_request_wants_a_confirmation_and_an_ended_enrolment(sessions, person, run):
    unconfirmed = run("erase", str(person.enrollee_id), at=ENDED + timedelta(days=10))
    assert unconfirmed.exit_code == 1
    assert "the erasure cannot be undone: add --yes to confirm" in unconfirmed.output
    missing = run("erase", "999999", "--yes")
    assert missing.exit_code == 1 and "enrollee_id: there is no record 999999" in missing.output

    done = run("erase", str(person.enrollee_id), "--yes", at=ENDED + timedelta(days=10))
    assert done.exit_code == 0, done.output
    assert f"record {person.enrollee_id}: personal data erased" in done.output
    assert run("erase", str(person.enrollee_id), "--yes").output.endswith(
        "was already erased, nothing to do\n")
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
        assert entry.detail["on_request"] is True


def test_export_writes_the_persons_document(person, run, tmp_path, sessions):
    target = tmp_path / "export.json"
    result = run("export", str(person.enrollee_id), "--output", str(target))
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["enrollee"]["last_name"] == "Zanardelli"
    assert document["generated_by"].startswith("cli:")

    printed = run("export", str(person.enrollee_id))
    assert printed.exit_code == 0
    assert json.loads(printed.stdout)["enrollee"]["id"] == person.enrollee_id
    with sessions() as session:
        assert len(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "export")).all()) == 2

    missing = run("export", "999999")
    assert missing.exit_code == 1 and "enrollee_id: there is no record 999999" in missing.output
