from datetime import date

import pytest
from sqlalchemy import select

from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import AuditEntry, Contact, Enrollee, EnrolleeState, PhoneKind, Relation
from tests.conftest import NOW
from tests.factories import enrollee_data

SOCIAL_WORKER = Actor("giulia", user_id=None)
TODAY = NOW.date()


def enrol(session, settings, **overrides):
    data = read_enrollee(enrollee_data(**overrides), TODAY, settings.enrolment)
    return service.enrol(session, data, SOCIAL_WORKER, NOW)


def audit_actions(session, enrollee_id):
    return session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "enrollee",
                                        AuditEntry.entity_id == enrollee_id)
        .order_by(AuditEntry.id)
    ).all()


def test_it_enrols_a_person_with_phones_contacts_and_key_holders(session, settings):
    enrollee = enrol(session, settings)
    session.commit()
    stored = session.get(Enrollee, enrollee.id)
    assert stored.state == EnrolleeState.ACTIVE
    assert stored.municipality_istat == "015146"
    assert [(p.number, p.kind) for p in stored.phones] == [("+390226145678", PhoneKind.LANDLINE)]
    assert [(c.name, c.relation, c.position) for c in stored.contacts] == [
        ("Anna Verdi", Relation.NEIGHBOUR, 0), ("Paolo Rossi", Relation.FAMILY, 1)]
    assert [c.name for c in stored.key_holders] == ["Anna Verdi"]
    assert stored.contacts[0].can_sms  # a mobile
    assert stored.enrolled_at == NOW
    assert audit_actions(session, enrollee.id) == ["create"]


def test_it_reports_every_bad_field_of_a_record_at_once(settings):
    raw = enrollee_data(sex="X", birth_date="31/02/1940", municipality_istat="999999",
                        phones=[{"number": "12", "kind": "landline"}], consent_date="")
    with pytest.raises(ValidationFailed) as excinfo:
        read_enrollee(raw, TODAY, settings.enrolment)
    assert [e.field for e in excinfo.value.errors] == [
        "sex", "birth_date", "municipality_istat", "consent_date", "phones[1].number"]


def test_it_refuses_a_second_current_enrolment_of_the_same_person(session, settings):
    first = enrol(session, settings)
    with pytest.raises(ValidationFailed) as excinfo:
        enrol(session, settings, codice_fiscale=first.codice_fiscale,
              first_name=first.first_name, last_name=first.last_name,
              sex=first.sex.value, birth_date=first.birth_date.isoformat())
    assert str(excinfo.value) == (
        f"codice_fiscale: this person is already enrolled (record {first.id})")
    assert session.scalars(select(Enrollee)).all() == [first]


def test_it_enrols_again_someone_whose_enrolment_ended(session, settings):
    first = enrol(session, settings)
    service.change_state(session, first, EnrolleeState.ENDED, "Trasferita in RSA",
                         SOCIAL_WORKER, NOW)
    session.flush()
    again = read_enrollee(enrollee_data(
        codice_fiscale=first.codice_fiscale, first_name=first.first_name,
        last_name=first.last_name, sex=first.sex.value,
        birth_date=first.birth_date.isoformat()), TODAY, settings.enrolment)
    second = service.enrol(session, again, SOCIAL_WORKER, NOW)
    assert second.id != first.id


def test_it_records_which_fields_an_edit_changed_without_copying_health_data(session, settings):
    enrollee = enrol(session, settings)
    raw = enrollee_data(codice_fiscale=enrollee.codice_fiscale, first_name=enrollee.first_name,
                        last_name=enrollee.last_name, sex=enrollee.sex.value,
                        birth_date=enrollee.birth_date.isoformat(),
                        health_notes="Pacemaker dal 2024")
    changed = service.update(session, enrollee, read_enrollee(raw, TODAY, settings.enrolment),
                             SOCIAL_WORKER, NOW)
    assert changed == ["health_notes"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.detail == {"fields": ["health_notes"]}
    assert "Pacemaker" not in str(entry.detail)


def test_it_suspends_reactivates_and_ends_with_reasons(session, settings):
    enrollee = enrol(session, settings)
    service.change_state(session, enrollee, EnrolleeState.SUSPENDED, "Ricovero ospedaliero",
                         SOCIAL_WORKER, NOW)
    service.change_state(session, enrollee, EnrolleeState.ACTIVE, "", SOCIAL_WORKER, NOW)
    service.change_state(session, enrollee, EnrolleeState.ENDED, "Deceduta", SOCIAL_WORKER, NOW)
    assert enrollee.state == EnrolleeState.ENDED
    assert enrollee.state_reason == "Deceduta"
    assert audit_actions(session, enrollee.id) == ["create", "suspend", "reactivate", "end"]


def test_it_keeps_an_ended_enrolment_ended(session, settings):
    enrollee = enrol(session, settings)
    service.change_state(session, enrollee, EnrolleeState.ENDED, "Deceduta", SOCIAL_WORKER, NOW)
    with pytest.raises(ValidationFailed, match="cannot go from ended to active"):
        service.change_state(session, enrollee, EnrolleeState.ACTIVE, "", SOCIAL_WORKER, NOW)


def test_it_wants_a_reason_to_suspend(session, settings):
    enrollee = enrol(session, settings)
    with pytest.raises(ValidationFailed, match="reason: is required"):
        service.change_state(session, enrollee, EnrolleeState.SUSPENDED, " ", SOCIAL_WORKER, NOW)
    assert enrollee.state == EnrolleeState.ACTIVE


def test_it_records_every_view_of_a_record(session, settings):
    enrollee = enrol(session, settings)
    service.viewed(session, enrollee, Actor("operatore1", None), NOW)
    session.flush()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).one()
    assert (entry.actor, entry.entity_id, entry.at) == ("operatore1", enrollee.id, NOW)


def test_it_accepts_an_under_age_person_with_the_social_workers_reason(session, settings):
    enrollee = enrol(session, settings, birth_date_value=date(1952, 5, 17),
                     age_exception_reason="Dipendenza documentata, vive sola")
    assert enrollee.age_exception_reason == "Dipendenza documentata, vive sola"


def test_it_keeps_contact_ids_when_a_record_is_edited(session, settings):
    enrollee = enrol(session, settings)
    session.flush()
    ids = [c.id for c in enrollee.contacts]
    raw = enrollee_data(codice_fiscale=enrollee.codice_fiscale, first_name=enrollee.first_name,
                        last_name=enrollee.last_name, sex=enrollee.sex.value,
                        birth_date=enrollee.birth_date.isoformat(),
                        contacts=[{"name": "Anna Verdi", "relation": "neighbour",
                                   "phone": "+39 333 999 0000", "holds_key": True}])
    changed = service.update(session, enrollee, read_enrollee(raw, TODAY, settings.enrolment),
                             SOCIAL_WORKER, NOW)
    session.flush()
    assert changed == ["contacts"]
    assert [(c.id, c.phone) for c in enrollee.contacts] == [(ids[0], "+393339990000")]
    assert session.get(Contact, ids[1]) is None


def test_it_refuses_a_contact_name_longer_than_its_column(settings):
    raw = enrollee_data(contacts=[{"name": "A" * 201, "relation": "friend",
                                   "phone": "+39 333 123 4567"}])
    with pytest.raises(ValidationFailed) as excinfo:
        read_enrollee(raw, TODAY, settings.enrolment)
    assert [str(e) for e in excinfo.value.errors] == [
        "contacts[1].name: is longer than 200 characters"]
