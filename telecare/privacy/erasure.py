"""Erasure after the retention (GDPR art. 5(1)(e) and 17): who is due, and erasing one person.

An enrolment that ended `privacy.retention_days` ago is due. Erasing it removes what names,
reaches or describes the person and the people around them (anonymise.py lists it) and sets
`erased_at`, in one transaction per person; the alarms and planned calls stay, anonymised,
so the service's figures do not change. A person with an alarm still unresolved waits: the
alarm is live business, and the operators need the record until it is closed.

The audit log is not touched: its entries name record ids, never the erased data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from telecare import audit
from telecare.actor import Actor
from telecare.db import begin_writing, session_scope
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import Alarm, AlarmState, Enrollee, EnrolleeState
from telecare.privacy import anonymise
from telecare.privacy.telephony import belonging_to
from telecare.settings import PrivacySettings, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Held:
    """A person past the retention whose erasure waits for their alarms to be resolved."""

    enrollee_id: int
    due_at: datetime
    alarm_ids: list[int]


def due_at(enrollee: Enrollee, privacy: PrivacySettings) -> datetime | None:
    """When the person's data fall due for erasure; None while enrolled, or once erased."""
    if enrollee.state != EnrolleeState.ENDED or enrollee.erased_at is not None:
        return None
    return enrollee.state_changed_at + timedelta(days=privacy.retention_days)


def unresolved_alarms(session: Session, enrollee_id: int) -> list[int]:
    return list(session.scalars(select(Alarm.id).where(
        Alarm.enrollee_id == enrollee_id, Alarm.state != AlarmState.RESOLVED)
        .order_by(Alarm.id)))


def _past_retention(privacy: PrivacySettings, now: datetime):
    return (Enrollee.state == EnrolleeState.ENDED, Enrollee.erased_at.is_(None),
            Enrollee.state_changed_at <= now - timedelta(days=privacy.retention_days))


def _unresolved():
    return exists().where(Alarm.enrollee_id == Enrollee.id, Alarm.state != AlarmState.RESOLVED)


def due(session: Session, privacy: PrivacySettings, now: datetime) -> list[int]:
    """Ids of the ended enrollees past the retention, not yet erased, with no alarm open."""
    return list(session.scalars(select(Enrollee.id)
                                .where(*_past_retention(privacy, now), ~_unresolved())
                                .order_by(Enrollee.id)))


def held(session: Session, privacy: PrivacySettings, now: datetime) -> list[Held]:
    """Those past the retention whose erasure waits for an unresolved alarm."""
    people = session.scalars(select(Enrollee).where(*_past_retention(privacy, now),
                                                    _unresolved()).order_by(Enrollee.id))
    return [Held(p.id, due_at(p, privacy), unresolved_alarms(session, p.id)) for p in people]


def refuse_if_erased(enrollee: Enrollee) -> None:
    """An erased record takes no new personal data: someone who returns is enrolled anew."""
    if enrollee.erased_at is not None:
        raise ValidationFailed([FieldError(
            "erased_at", N_("this record was erased on %(date)s: enrol the person anew"),
            {"date": enrollee.erased_at.date().isoformat()})])


def erase(session: Session, enrollee_id: int, actor: Actor, now: datetime, *,
          on_request: bool = False) -> bool:
    """Erase one ended person's personal data in the caller's transaction.

    Returns False when the record was erased already (by an earlier run, or by another
    process a moment ago): erasing twice changes nothing. Refuses an active or suspended
    person and one with an unresolved alarm. Does not look at the retention: `due` does, and
    an erasure on request (art. 17) may come before it.
    """
    enrollee = session.get(Enrollee, enrollee_id)
    if enrollee is None:
        raise ValidationFailed([FieldError("enrollee_id", N_("there is no record %(id)s"),
                                           {"id": enrollee_id})])
    if enrollee.erased_at is not None:
        return False
    if enrollee.state != EnrolleeState.ENDED:
        raise ValidationFailed([FieldError(
            "state", N_("only an ended enrolment can be erased; this one is %(state)s"),
            {"state": enrollee.state.value})])
    open_alarms = unresolved_alarms(session, enrollee_id)
    if open_alarms:
        raise ValidationFailed([FieldError(
            "alarms", N_("alarm %(ids)s is not resolved yet: resolve it first"),
            {"ids": ", ".join(str(i) for i in open_alarms)})])
    # The claim: of two processes erasing at once, one changes the row and the other stops.
    claimed = session.execute(
        update(Enrollee).where(Enrollee.id == enrollee_id, Enrollee.erased_at.is_(None))
        .values(erased_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        session.refresh(enrollee)
        return False
    session.refresh(enrollee)
    numbers = anonymise.numbers_of(enrollee)
    freed = anonymise.freed(session, enrollee_id, numbers)
    # Before the phones go: which calls and texts were theirs.
    records = belonging_to(session, enrollee_id, freed)
    anonymise.telephony(session, records, freed)
    alarm_ids = anonymise.alarms(session, enrollee_id)
    anonymise.planned_calls(session, enrollee_id)
    anonymise.warnings(session, enrollee_id)
    anonymise.devices(session, enrollee_id)
    anonymise.person(enrollee)
    # Counts and ids only: the entry must not keep what it records the erasure of.
    audit.record(session, actor, "erase", "enrollee", enrollee_id, now,
                 on_request=on_request, alarms=len(alarm_ids), calls=len(records.calls),
                 texts=len(records.texts))
    session.flush()
    # The bulk UPDATEs bypassed the objects already loaded: none may still show the old data.
    session.expire_all()
    return True


def erase_due(sessions: sessionmaker[Session], settings: Settings, now: datetime,
              actor: Actor | None = None) -> int:
    """Erase everyone due, one transaction each; returns how many were erased.

    The scheduler calls this daily. One person failing is logged and the others go on; they
    are tried again the next day.
    """
    actor = actor or Actor.system()
    with session_scope(sessions) as session:
        ids = due(session, settings.privacy, now)
    erased = 0
    for enrollee_id in ids:
        try:
            with session_scope(sessions) as session:
                begin_writing(session)
                erased += erase(session, enrollee_id, actor, now)
        except ValidationFailed as failed:
            # An alarm opened since the list was read: the next run finds it resolved.
            log.warning("privacy: record %s not erased: %s", enrollee_id,
                        "; ".join(str(e) for e in failed.errors))
        except Exception:
            log.exception("privacy: erasing record %s failed; it is tried again next run",
                          enrollee_id)
    if erased:
        log.info("privacy: erased the personal data of %d ended enrolments", erased)
    return erased
