from __future__ import annotations

import pytest
from sqlalchemy import select

from telecare.actor import Actor
from telecare.enrolment import contacts, service
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import AuditEntry, Contact, Enrollee, Relation
from tests.conftest import NOW
from tests.factories import enrollee_data

ACTOR = Actor("social.worker", None)


@pytest.fixture
def enrollee(session, settings) -> Enrollee:
    data = read_enrollee(enrollee_data(), NOW.date(), settings.enrolment)
    enrollee = service.enrol(session, data, ACTOR, NOW)
    session.flush()
    return enrollee


def _ladder(session, enrollee) -> list[str]:
    rows = session.scalars(select(Contact).where(Contact.enrollee_id == enrollee.id)
                           .order_by(Contact.position))
    return [c.name for c in rows]


def _actions(session, enrollee) -> list[str]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "enrollee",
                                                    AuditEntry.entity_id == enrollee.id)
                           .order_by(AuditEntry.id))
    return [e.action for e in rows]


def test_it_reads_a_contact_with_bare_field_names(settings):
    with pytest.raises(ValidationFailed) as failed:
        contacts.read_contact({"name": "", "phone": "12", "relation": "cousin"},
                              settings.enrolment)
    fields = {e.field for e in failed.value.errors}
    assert fields == {"name", "phone", "relation"}


def test_it_adds_a_contact_last_and_audits_it(session, settings, enrollee):
    data = contacts.read_contact({"name": "Carla Neri", "relation": "friend",
                                  "phone": "+39 333 765 1111", "holds_key": "yes"},
                                 settings.enrolment)
    contact = contacts.add_contact(session, enrollee, data, ACTOR, NOW)
    session.flush()
    assert _ladder(session, enrollee) == ["Anna Verdi", "Paolo Rossi", "Carla Neri"]
    assert contact.holds_key and contact.phone == "+393337651111"
    assert contact.relation is Relation.FRIEND
    assert _actions(session, enrollee)[-1] == "add_contact"


def test_it_moves_contacts_up_and_down_the_ladder(session, enrollee):
    second = enrollee.contacts[1]
    contacts.move_contact(session, second, -1, ACTOR, NOW)
    session.flush()
    assert _ladder(session, enrollee) == ["Paolo Rossi", "Anna Verdi"]
    with pytest.raises(ValidationFailed):
        contacts.move_contact(session, second, -1, ACTOR, NOW)
    contacts.move_contact(session, second, 1, ACTOR, NOW)
    session.flush()
    assert _ladder(session, enrollee) == ["Anna Verdi", "Paolo Rossi"]
    assert _actions(session, enrollee).count("move_contact") == 2


def test_it_removes_a_contact_and_closes_the_gap(session, enrollee):
    contacts.remove_contact(session, enrollee.contacts[0], ACTOR, NOW)
    session.flush()
    remaining = session.scalars(select(Contact).where(Contact.enrollee_id == enrollee.id)).all()
    assert [(c.name, c.position) for c in remaining] == [("Paolo Rossi", 0)]
    assert _actions(session, enrollee)[-1] == "remove_contact"


def test_it_updates_a_contact_and_records_the_changed_fields(session, settings, enrollee):
    contact = enrollee.contacts[1]
    data = contacts.read_contact({"name": "Paolo Rossi", "relation": "family",
                                  "phone": "+39 347 765 4321", "holds_key": True,
                                  "can_sms": contact.can_sms, "notes": "Figlio"},
                                 settings.enrolment)
    changed = contacts.update_contact(session, contact, data, ACTOR, NOW)
    session.flush()
    assert changed == ["holds_key", "notes"]
    assert [c.name for c in enrollee.key_holders] == ["Anna Verdi", "Paolo Rossi"]
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.detail["fields"]) == ("update_contact", ["holds_key", "notes"])
