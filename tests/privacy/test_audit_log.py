"""The audit log cannot be edited: the database refuses UPDATE and DELETE, and takes INSERT."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from telecare import audit
from telecare.actor import Actor
from telecare.models import AuditEntry
from tests.conftest import NOW

REFUSAL = "audit_entry is append-only"


@pytest.fixture
def entry(session) -> AuditEntry:
    made = audit.record(session, Actor("giulia"), "view", "enrollee", 7, NOW)
    session.commit()
    return made


def refused(session, statement) -> str:
    """Run a statement in a savepoint and return the database's refusal."""
    with pytest.raises(DBAPIError) as raised, session.begin_nested():
        session.execute(statement)
    return str(raised.value.orig)


def test_it_adds_entries(session, entry):
    audit.record(session, Actor("marco"), "view", "enrollee", 7, NOW)
    session.commit()
    assert session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.entity_id == 7)) == 2


@pytest.mark.parametrize("statement", [
    update(AuditEntry).values(actor="someone else"),
    update(AuditEntry).values(detail={}),
    delete(AuditEntry),
    text("UPDATE audit_entry SET action = 'nothing'"),
    text("DELETE FROM audit_entry"),
], ids=["update-actor", "update-detail", "delete", "sql-update", "sql-delete"])
def test_it_refuses_to_change_or_remove_an_entry(session, entry, statement):
    assert REFUSAL in refused(session, statement)
    session.expire_all()
    kept = session.get(AuditEntry, entry.id)
    assert (kept.actor, kept.action, kept.entity_id) == ("giulia", "view", 7)


def test_it_refuses_the_orm_too(session, entry):
    with pytest.raises(DBAPIError, match=REFUSAL), session.begin_nested():
        entry.actor = "someone else"
        session.flush()
    session.expire_all()
    with pytest.raises(DBAPIError, match=REFUSAL), session.begin_nested():
        session.delete(session.get(AuditEntry, entry.id))
        session.flush()


def test_it_refuses_truncate_on_postgresql(session, entry):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (its DELETE FROM is refused above)")
    assert REFUSAL in refused(session, text("TRUNCATE audit_entry"))
