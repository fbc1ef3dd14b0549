"""Enrol, edit, suspend, end: each change checked, applied and written to the audit log."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecare import audit
from telecare.actor import Actor
from telecare.enrolment.record import EnrolleeInput
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import Contact, Enrollee, EnrolleePhone, EnrolleeState
from telecare.privacy import erasure

SCALAR_FIELDS = [
    "first_name", "last_name", "sex", "birth_date", "codice_fiscale", "language",
    "address_street", "address_postal_code", "address_floor", "municipality_istat",
    "latitude", "longitude", "lives_alone", "health_notes", "access_notes",
    "consent_date", "consent_note", "age_exception_reason",
    "call_weekday", "call_window_start", "call_window_end", "call_mode",
]
# Which states a person may be moved to from each state. An ended enrolment stays ended:
# someone who comes back is enrolled anew, so the old record keeps its history.
TRANSITIONS = {
    EnrolleeState.ACTIVE: {EnrolleeState.SUSPENDED, EnrolleeState.ENDED},
    EnrolleeState.SUSPENDED: {EnrolleeState.ACTIVE, EnrolleeState.ENDED},
    EnrolleeState.ENDED: set(),
}


def current_enrolment(session: Session, codice_fiscale: str) -> Enrollee | None:
    """The person's active or suspended enrolment, if any."""
    return session.scalars(
        select(Enrollee).where(
            Enrollee.codice_fiscale == codice_fiscale, Enrollee.state != EnrolleeState.ENDED
        )
    ).first()


def enrol(session: Session, data: EnrolleeInput, actor: Actor, now: datetime) -> Enrollee:
    existing = current_enrolment(session, data.codice_fiscale)
    if existing is not None:
        raise ValidationFailed([already_enrolled(existing)])
    enrollee = Enrollee(enrolled_at=now, state_changed_at=now, updated_at=now,
                        state=EnrolleeState.ACTIVE)
    _apply(enrollee, data)
    session.add(enrollee)
    session.flush()
    audit.record(session, actor, "create", "enrollee", enrollee.id, now)
    return enrollee


def already_enrolled(existing: Enrollee) -> FieldError:
    return FieldError("codice_fiscale", N_("this person is already enrolled (record %(id)d)"),
                      {"id": existing.id})


def update(session: Session, enrollee: Enrollee, data: EnrolleeInput, actor: Actor,
           now: datetime) -> list[str]:
    """Replace the record's details; returns the names of the fields that changed."""
    erasure.refuse_if_erased(enrollee)
    if data.codice_fiscale != enrollee.codice_fiscale:
        existing = current_enrolment(session, data.codice_fiscale)
        if existing is not None and existing.id != enrollee.id:
            raise ValidationFailed([already_enrolled(existing)])
    before = _snapshot(enrollee)
    _apply(enrollee, data)
    changed = [name for name, value in _snapshot(enrollee).items() if before[name] != value]
    if changed:
        enrollee.updated_at = now
        # Field names only: the audit log must not become a second copy of health data.
        audit.record(session, actor, "update", "enrollee", enrollee.id, now, fields=changed)
    return changed


def change_state(session: Session, enrollee: Enrollee, state: EnrolleeState, reason: str,
                 actor: Actor, now: datetime) -> None:
    if state not in TRANSITIONS[enrollee.state]:
        raise ValidationFailed([FieldError("state", N_("cannot go from %(current)s to %(new)s"),
                                           {"current": enrollee.state.value,
                                            "new": state.value})])
    if state != EnrolleeState.ACTIVE and not reason.strip():
        raise ValidationFailed([FieldError("reason", N_("is required"))])
    previous = enrollee.state
    enrollee.state, enrollee.state_reason = state, reason.strip()
    enrollee.state_changed_at = enrollee.updated_at = now
    action = {EnrolleeState.ACTIVE: "reactivate", EnrolleeState.SUSPENDED: "suspend",
              EnrolleeState.ENDED: "end"}[state]
    # Not the reason: it is free text ("moved to her daughter's", "hospital stay") and the
    # audit log, which nothing may change, must hold no personal data to erase later.
    audit.record(session, actor, action, "enrollee", enrollee.id, now, previous=previous.value)


def viewed(session: Session, enrollee: Enrollee, actor: Actor, now: datetime) -> None:
    """Reading a record of health data is itself recorded."""
    audit.record(session, actor, "view", "enrollee", enrollee.id, now)


def _apply(enrollee: Enrollee, data: EnrolleeInput) -> None:
    for name in SCALAR_FIELDS:
        setattr(enrollee, name, getattr(data, name))
    _sync(enrollee.phones, EnrolleePhone,
          [{"number": p.number, "kind": p.kind} for p in data.phones])
    _sync(enrollee.contacts, Contact, [asdict(c) for c in data.contacts])


def _sync(rows: list, model, wanted: list[dict]) -> None:
    """Update rows in place by position, so a contact keeps its id (and its audit trail)."""
    for position, values in enumerate(wanted):
        if position < len(rows):
            row = rows[position]
            for name, value in values.items():
                setattr(row, name, value)
            row.position = position
        else:
            rows.append(model(position=position, **values))
    del rows[len(wanted):]


def _snapshot(enrollee: Enrollee) -> dict:
    snapshot = {name: getattr(enrollee, name) for name in SCALAR_FIELDS}
    snapshot["phones"] = [(p.number, p.kind) for p in enrollee.phones]
    snapshot["contacts"] = [(c.name, c.relation, c.phone, c.can_sms, c.language, c.holds_key,
                             c.notes) for c in enrollee.contacts]
    return snapshot
