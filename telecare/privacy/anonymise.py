"""The row-by-row work of an erasure: what is removed, what is blanked, what is kept.

Kept for the statistics: the enrollee row (its id, sex, birth year, municipality and
district, language, whether they lived alone, the weekly call's mode, the enrolment's dates
and consent date), every alarm's kind, severity, times, state, outcome, ladder steps and who
took charge, every planned call's kind, slot, attempts and results, the warnings' delivery
states, and the call and text rows' times, purposes and outcomes. Removed or blanked: what
names, reaches or describes the person or the people around them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from telecare.models import (
    Alarm,
    AlarmEvent,
    AlarmNotification,
    CallAttempt,
    CampaignDelivery,
    Contact,
    Device,
    DeviceEvent,
    Enrollee,
    EnrolleePhone,
    NumberStanding,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    SmsMessage,
)
from telecare.privacy.telephony import Records

# What an erased name reads as, in every language and on every page that shows one.
ERASED = "—"
# Timeline details that hold no name, number or free text: everything else is blanked.
# A list of what may stay, not of what must go: a detail added later is erased by default.
SAFE_DETAIL = frozenset({
    "severity", "seq", "level", "call", "attempts", "reason", "call_kind", "via",
    "acknowledged_by", "outcome", "step", "action", "service", "until", "minutes",
    "notification", "digits", "code",
})
# A contact who took charge is recorded as "contact:<name>": the kind of actor stays.
CONTACT_ACTOR = "contact:"


def person(enrollee: Enrollee) -> None:
    """The record itself: only what the statistics count stays."""
    enrollee.first_name, enrollee.last_name = "", ERASED
    enrollee.codice_fiscale = ""
    # The year stays (age bands of the alarms); day and month went with the codice fiscale.
    enrollee.birth_date = date(enrollee.birth_date.year, 1, 1)
    enrollee.address_street = enrollee.address_postal_code = enrollee.address_floor = ""
    enrollee.latitude = enrollee.longitude = None
    enrollee.health_notes = enrollee.access_notes = ""
    enrollee.consent_note = enrollee.age_exception_reason = enrollee.state_reason = ""
    enrollee.call_weekday = enrollee.call_window_start = enrollee.call_window_end = None
    enrollee.phones.clear()
    enrollee.contacts.clear()


def numbers_of(enrollee: Enrollee) -> set[str]:
    return {p.number for p in enrollee.phones} | {c.phone for c in enrollee.contacts}


def freed(session: Session, enrollee_id: int, numbers: set[str]) -> set[str]:
    """Of these numbers, those no other record still holding personal data has."""
    if not numbers:
        return set()
    held = set(session.scalars(
        select(EnrolleePhone.number).join(Enrollee, Enrollee.id == EnrolleePhone.enrollee_id)
        .where(EnrolleePhone.number.in_(numbers), Enrollee.id != enrollee_id,
               Enrollee.erased_at.is_(None))))
    held |= set(session.scalars(
        select(Contact.phone).join(Enrollee, Enrollee.id == Contact.enrollee_id)
        .where(Contact.phone.in_(numbers), Enrollee.id != enrollee_id,
               Enrollee.erased_at.is_(None))))
    return numbers - held


def telephony(session: Session, records: Records, numbers: set[str]) -> None:
    """Calls and texts keep their times and outcomes; numbers, names and words go."""
    if records.calls:
        session.execute(update(CallAttempt).where(CallAttempt.id.in_(records.calls))
                        .values(to_number="", params={}, error="")
                        .execution_options(synchronize_session=False))
    if records.texts:
        session.execute(update(SmsMessage).where(SmsMessage.id.in_(records.texts))
                        .values(number="", body="", error="")
                        .execution_options(synchronize_session=False))
    if numbers:
        # A STOP or a permanent error belongs to the number's holder, who is gone.
        session.execute(delete(NumberStanding).where(NumberStanding.number.in_(numbers))
                        .execution_options(synchronize_session=False))


def alarms(session: Session, enrollee_id: int) -> list[int]:
    """Alarms keep kind, times, steps, outcome and who took charge; returns their ids."""
    found = list(session.scalars(select(Alarm).where(Alarm.enrollee_id == enrollee_id)))
    ids = [alarm.id for alarm in found]
    for alarm in found:
        alarm.outcome_note = ""
        # The pendant's serial would lead back to the person through the stock records.
        alarm.device_id = None
        alarm.ladder = [_rung(rung) for rung in alarm.ladder or []]
    if not ids:
        return ids
    for event in session.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id.in_(ids))):
        event.detail = {key: _detail_value(key, value)
                        for key, value in (event.detail or {}).items()}
        if event.actor.startswith(CONTACT_ACTOR):
            event.actor = CONTACT_ACTOR.rstrip(":")
    for notification in session.scalars(select(AlarmNotification)
                                         .where(AlarmNotification.alarm_id.in_(ids))):
        notification.name = ERASED if notification.name else ""
        notification.number = notification.error = ""
    session.execute(update(DeviceEvent).where(DeviceEvent.alarm_id.in_(ids))
                    .values(alarm_id=None).execution_options(synchronize_session=False))
    return ids


def planned_calls(session: Session, enrollee_id: int) -> None:
    """Calls keep slot, attempts and results; operators' notes go. None is left to ring."""
    calls = select(PlannedCall.id).where(PlannedCall.enrollee_id == enrollee_id)
    session.execute(update(PlannedCallLog).where(PlannedCallLog.planned_call_id.in_(calls))
                    .values(note="", detail="").execution_options(synchronize_session=False))
    session.execute(update(PlannedCall)
                    .where(PlannedCall.enrollee_id == enrollee_id,
                           PlannedCall.state == PlannedCallState.PLANNED)
                    .values(state=PlannedCallState.CANCELLED, next_attempt_at=None)
                    .execution_options(synchronize_session=False))


def warnings(session: Session, enrollee_id: int) -> None:
    """A delivery's state stays; its reason may quote a number from the phone network."""
    session.execute(update(CampaignDelivery).where(CampaignDelivery.enrollee_id == enrollee_id)
                    .values(reason="").execution_options(synchronize_session=False))


def devices(session: Session, enrollee_id: int) -> None:
    session.execute(update(Device).where(Device.enrollee_id == enrollee_id)
                    .values(enrollee_id=None).execution_options(synchronize_session=False))


def _rung(rung: dict) -> dict:
    targets = [target | {"name": ERASED if target.get("name") else "", "number": ""}
               for target in rung.get("targets", [])]
    return rung | {"targets": targets} if "targets" in rung else dict(rung)


def _detail_value(key: str, value):
    if key in SAFE_DETAIL or value in (None, "", [], {}):
        return value
    return ERASED
