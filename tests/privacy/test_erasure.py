"""Erasure after the retention: every personal field goes, the statistics stay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from alerts import kpi
from telecare import alarms
from telecare.actor import Actor
from telecare.enrolment import contacts, service
from telecare.enrolment.contacts import read_contact
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    AuditEntry,
    Base,
    CallAttempt,
    Contact,
    Device,
    EnrolleePhone,
    EnrolleeState,
    NumberStanding,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    Severity,
    SmsMessage,
)
from telecare.privacy import erasure
from telecare.privacy.anonymise import ERASED
from telecare.settings import PrivacySettings
from tests.factories import enrollee_data
from tests.privacy.conftest import ENDED, ENROLLED, due_day, enrollee

DPO = Actor("cli:dpo")


def everything_stored(session) -> str:
    """Every column of every row of every table, as text."""
    return "\n".join(str(tuple(row)) for table in Base.metadata.sorted_tables
                     for row in session.execute(select(table)))


def someone(settings, **overrides):
    """Another person's checked record, consent signed before their enrolment."""
    return read_enrollee(enrollee_data(consent_date="2024-11-01", **overrides), ENROLLED.date(),
                         settings.enrolment)


def answer_times(session, settings):
    first, last = ENROLLED.date(), (ENROLLED + timedelta(days=90)).date()
    return kpi.report(session, settings.zone, first, last,
                      kinds=(AlarmKind.BUTTON, AlarmKind.FALL))


def test_it_erases_every_personal_field_and_keeps_the_statistics(session, settings,
                                                                   ermenegilda, bortolo):
    before = answer_times(session, settings)
    assert before.total.count == 4 and before.total.within_60 == 2  # two people, two each

    assert erasure.erase(session, ermenegilda.enrollee_id, DPO, due_day(settings))
    session.commit()

    stored = everything_stored(session)
    for secret in ermenegilda.secrets:
        assert secret not in stored, secret
    for secret in bortolo.secrets:
        assert secret in stored, secret
    person = enrollee(session, ermenegilda)
    assert person.erased_at == due_day(settings)
    assert (person.first_name, person.last_name, person.codice_fiscale) == ("", ERASED, "")
    assert person.birth_date == date(1938, 1, 1)  # the year only
    assert (person.address_street, person.address_floor, person.address_postal_code) == \
        ("", "", "")
    assert (person.latitude, person.longitude) == (None, None)
    assert (person.health_notes, person.access_notes, person.consent_note,
            person.state_reason) == ("", "", "", "")
    assert person.phones == [] and person.contacts == []
    # What the statistics count stays.
    assert (person.sex.value, person.municipality_istat, person.state) == \
        ("F", "015146", EnrolleeState.ENDED)
    assert person.enrolled_at == ENROLLED and person.state_changed_at == ENDED
    assert person.consent_date == date(2024, 11, 1)

    # Alarms: the same figures, every alarm there, anonymised.
    after = answer_times(session, settings)
    assert after.total == before.total and after.days == before.days
    assert after.by_who == before.by_who
    kept = session.scalars(select(Alarm).where(Alarm.enrollee_id == ermenegilda.enrollee_id)
                           .order_by(Alarm.id)).all()
    assert [a.id for a in kept] == ermenegilda.alarm_ids
    assert [(a.kind, a.outcome.value, a.acknowledged_via) for a in kept] == [
        (AlarmKind.BUTTON, "contact_attended", "voice"), (AlarmKind.FALL, "false_alarm",
                                                          "console")]
    assert all(a.outcome_note == "" and a.device_id is None for a in kept)
    assert kept[0].ladder[0]["targets"][0]["name"] == ERASED
    assert kept[0].ladder[0]["targets"][0]["number"] == ""
    timeline = session.scalars(select(AlarmEvent).where(
        AlarmEvent.alarm_id == kept[0].id).order_by(AlarmEvent.id)).all()
    assert [e.kind for e in timeline] == ["opened", "step", "call", "key_pressed",
                                          "acknowledged", "note", "resolved"]
    assert timeline[0].detail == {"severity": "critical", "serial": ERASED, "seq": 1}
    assert timeline[4].actor == "contact"
    assert timeline[4].detail == {"via": "voice", "contact": ERASED}
    assert timeline[5].detail == {"text": ERASED}
    assert timeline[6].detail == {"outcome": "contact_attended"}

    # Planned calls: outcome and attempts stay, the note goes, nothing is left to ring.
    calls = {c.id: c for c in session.scalars(select(PlannedCall).where(
        PlannedCall.enrollee_id == ermenegilda.enrollee_id))}
    done = calls[ermenegilda.planned_call_id]
    assert (done.state, done.result.value, done.attempts) == (PlannedCallState.DONE, "concern", 1)
    assert [(entry.result.value, entry.note, entry.detail) for entry in done.log] == [
        ("concern", "", "")]
    assert {c.state for c in calls.values()} == {PlannedCallState.DONE,
                                                 PlannedCallState.CANCELLED}

    # Calls and texts keep their times and outcomes; the other person's keep their numbers.
    attempts = session.scalars(select(CallAttempt).where(CallAttempt.to_number == "")).all()
    assert len(attempts) == 3 and all(a.params == {} for a in attempts)
    assert {a.outcome.value for a in attempts} == {"confirmed"}
    assert session.scalar(select(func.count()).select_from(SmsMessage)
                          .where(SmsMessage.number == "")) == 2
    assert session.scalar(select(func.count()).select_from(CallAttempt)
                          .where(CallAttempt.to_number.in_(bortolo.numbers))) == 3
    assert session.get(NumberStanding, ermenegilda.numbers[1]) is None
    assert session.get(NumberStanding, bortolo.numbers[1]) is not None
    assert session.get(Device, ermenegilda.device_id).enrollee_id is None

    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
    assert (entry.entity_type, entry.entity_id, entry.actor) == \
        ("enrollee", ermenegilda.enrollee_id, "cli:dpo")
    assert entry.detail == {"on_request": False, "alarms": 2, "calls": 3, "texts": 2}


def test_it_erases_once_however_often_it_is_asked(session, settings, ermenegilda):
    day = due_day(settings)
    assert erasure.erase(session, ermenegilda.enrollee_id, DPO, day)
    session.commit()
    stored = everything_stored(session)
    assert not erasure.erase(session, ermenegilda.enrollee_id, DPO, day + timedelta(days=1))
    session.commit()
    assert everything_stored(session) == stored
    assert enrollee(session, ermenegilda).erased_at == day
    assert erasure.due(session, settings.privacy, day + timedelta(days=1)) == []


def test_it_erases_nobody_before_the_retention_has_passed(session, session_factory, settings,
                                                          ermenegilda):
    day = due_day(settings)
    assert erasure.due(session, settings.privacy, day - timedelta(seconds=1)) == []
    assert erasure.erase_due(session_factory, settings, day - timedelta(days=1)) == 0
    assert enrollee(session, ermenegilda).erased_at is None
    assert erasure.due(session, settings.privacy, day) == [ermenegilda.enrollee_id]
    assert erasure.due_at(enrollee(session, ermenegilda), settings.privacy) == day


def test_it_follows_the_configured_retention(session, settings, ermenegilda):
    longer = settings.replace(privacy=PrivacySettings(retention_days=730))
    assert erasure.due(session, longer.privacy, due_day(settings)) == []
    assert erasure.due(session, longer.privacy, ENDED + timedelta(days=730)) == \
        [ermenegilda.enrollee_id]


@pytest.mark.parametrize("state", [EnrolleeState.ACTIVE, EnrolleeState.SUSPENDED])
def test_it_never_erases_an_active_or_suspended_person(session, settings, state):
    data = someone(settings)
    person = service.enrol(session, data, DPO, ENROLLED)
    if state == EnrolleeState.SUSPENDED:
        service.change_state(session, person, state, "Ricovero", DPO, ENROLLED)
    session.commit()
    far_later = ENROLLED + timedelta(days=5000)
    assert erasure.due(session, settings.privacy, far_later) == []
    with pytest.raises(ValidationFailed, match=f"state: only an ended enrolment can be erased; "
                                               f"this one is {state.value}"):
        erasure.erase(session, person.id, DPO, far_later)
    assert person.erased_at is None and person.phones


def test_it_waits_for_an_unresolved_alarm(session, settings, ermenegilda):
    alarm, _ = alarms.raise_alarm(session, enrollee_id=ermenegilda.enrollee_id,
                                  kind=AlarmKind.DEVICE_OFFLINE, severity=Severity.HIGH,
                                  now=ENDED + timedelta(days=1))
    session.commit()
    day = due_day(settings)
    assert erasure.due(session, settings.privacy, day) == []
    assert [(h.enrollee_id, h.due_at, h.alarm_ids) for h in
            erasure.held(session, settings.privacy, day)] == [
        (ermenegilda.enrollee_id, day, [alarm.id])]
    with pytest.raises(ValidationFailed, match=f"alarms: alarm {alarm.id} is not resolved yet"):
        erasure.erase(session, ermenegilda.enrollee_id, DPO, day)
    alarms.resolve(session, alarm, DPO, "other", "Dispositivo restituito", day)
    session.commit()
    assert erasure.due(session, settings.privacy, day) == [ermenegilda.enrollee_id]


def test_the_daily_run_erases_each_due_person_in_its_own_transaction(
        session, session_factory, settings, ermenegilda, bortolo):
    day = due_day(settings)
    assert erasure.erase_due(session_factory, settings, day) == 2
    assert erasure.erase_due(session_factory, settings, day) == 0
    session.expire_all()
    assert enrollee(session, ermenegilda).erased and enrollee(session, bortolo).erased
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "erase", AuditEntry.actor == "system")) == 2


def test_it_keeps_the_calls_to_a_number_another_person_still_holds(session, settings,
                                                                   ermenegilda):
    # Her husband, still enrolled, shares the landline: his calls keep the number.
    data = someone(settings, phones=[{"number": "02 8765 4321", "kind": "landline"}])
    husband = service.enrol(session, data, DPO, ENROLLED)
    session.add(CallAttempt(to_number=ermenegilda.numbers[0], purpose="manual",
                            script="courtesy", created_at=ENDED, updated_at=ENDED))
    session.commit()
    erasure.erase(session, ermenegilda.enrollee_id, DPO, due_day(settings))
    session.commit()
    assert session.scalar(select(func.count()).select_from(EnrolleePhone).where(
        EnrolleePhone.number == ermenegilda.numbers[0])) == 1
    # Her own weekly call and warning lose the number; the unlinked call stays his.
    assert session.scalar(select(func.count()).select_from(CallAttempt).where(
        CallAttempt.to_number == ermenegilda.numbers[0])) == 1
    assert husband.phones[0].number == ermenegilda.numbers[0]


def test_an_erased_record_takes_no_new_personal_data(session, settings, ermenegilda):
    erasure.erase(session, ermenegilda.enrollee_id, DPO, due_day(settings))
    session.commit()
    person = enrollee(session, ermenegilda)
    data = someone(settings)
    with pytest.raises(ValidationFailed, match="erased_at: this record was erased on"):
        service.update(session, person, data, DPO, due_day(settings))
    contact = read_contact({"name": "Nuova Persona", "relation": "friend",
                            "phone": "333 999 8888"}, settings.enrolment)
    with pytest.raises(ValidationFailed, match="erased_at: this record was erased on"):
        contacts.add_contact(session, person, contact, DPO, due_day(settings))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Contact).where(
        Contact.enrollee_id == ermenegilda.enrollee_id)) == 0


def test_the_audit_log_holds_no_reason_for_a_suspension_or_an_end(session, settings,
                                                                  ermenegilda):
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_id == ermenegilda.enrollee_id,
        AuditEntry.entity_type == "enrollee")).all()
    assert [e.action for e in entries] == ["create", "view", "end"]
    assert entries[-1].detail == {"previous": "active"}
    assert "Quarenghi" not in str([e.detail for e in entries])


def test_notes_on_planned_calls_are_gone_with_the_person(session, settings, ermenegilda):
    erasure.erase(session, ermenegilda.enrollee_id, DPO, due_day(settings))
    session.commit()
    notes = session.scalars(select(PlannedCallLog.note).join(PlannedCall).where(
        PlannedCall.enrollee_id == ermenegilda.enrollee_id)).all()
    assert notes == [""]
