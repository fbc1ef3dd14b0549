"""Which call attempts and texts belong to one person.

A call or a text is theirs when something of theirs points at it (a planned call or its log,
a notification of one of their alarms, a warning delivered to them), or when it went to one
of the numbers asked about and nothing of another person points at it: a landline two
enrolled spouses share carries both their calls, and each keeps their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecare.models import (
    Alarm,
    AlarmNotification,
    CallAttempt,
    CampaignDelivery,
    PlannedCall,
    PlannedCallLog,
    SmsMessage,
)


@dataclass
class Records:
    """Ids of call_attempt and sms_message rows."""

    calls: set[int] = field(default_factory=set)
    texts: set[int] = field(default_factory=set)


def linked(session: Session, enrollee_ids: Iterable[int]) -> Records:
    """The calls and texts made for these people: their planned calls, alarms, warnings."""
    ids = list(enrollee_ids)
    found = Records()
    if not ids:
        return found
    found.calls |= _ids(session, select(PlannedCall.call_attempt_id)
                        .where(PlannedCall.enrollee_id.in_(ids)))
    found.calls |= _ids(session, select(PlannedCallLog.call_attempt_id)
                        .join(PlannedCall, PlannedCall.id == PlannedCallLog.planned_call_id)
                        .where(PlannedCall.enrollee_id.in_(ids)))
    notifications = (select(AlarmNotification.call_attempt_id, AlarmNotification.sms_id)
                     .join(Alarm, Alarm.id == AlarmNotification.alarm_id)
                     .where(Alarm.enrollee_id.in_(ids)))
    for call_id, sms_id in session.execute(notifications):
        if call_id is not None:
            found.calls.add(call_id)
        if sms_id is not None:
            found.texts.add(sms_id)
    # A warning's delivery names its call or text as "call:<id>" or "sms:<id>".
    for external_id in session.scalars(select(CampaignDelivery.external_id)
                                       .where(CampaignDelivery.enrollee_id.in_(ids))):
        kind, _, ident = external_id.partition(":")
        if ident.isdigit():
            {"call": found.calls, "sms": found.texts}.get(kind, set()).add(int(ident))
    return found


def belonging_to(session: Session, enrollee_id: int, numbers: Iterable[str]) -> Records:
    """This person's linked calls and texts, and those to or from `numbers` no one else's."""
    numbers = sorted({n for n in numbers if n})
    found = linked(session, [enrollee_id])
    if not numbers:
        return found
    by_number = Records(
        calls=_ids(session, select(CallAttempt.id).where(CallAttempt.to_number.in_(numbers))),
        texts=_ids(session, select(SmsMessage.id).where(SmsMessage.number.in_(numbers))))
    others = _others_linked(session, enrollee_id, by_number)
    found.calls |= by_number.calls - others.calls
    found.texts |= by_number.texts - others.texts
    return found


def _others_linked(session: Session, enrollee_id: int, candidates: Records) -> Records:
    """Of these calls and texts, the ones made for someone else."""
    owners = set()
    if candidates.calls:
        owners |= _ids(session, select(PlannedCall.enrollee_id).where(
            PlannedCall.call_attempt_id.in_(candidates.calls)))
        owners |= _ids(session, select(PlannedCall.enrollee_id)
                       .join(PlannedCallLog, PlannedCall.id == PlannedCallLog.planned_call_id)
                       .where(PlannedCallLog.call_attempt_id.in_(candidates.calls)))
    owners |= _ids(session, select(Alarm.enrollee_id)
                   .join(AlarmNotification, Alarm.id == AlarmNotification.alarm_id)
                   .where(AlarmNotification.call_attempt_id.in_(candidates.calls)
                          | AlarmNotification.sms_id.in_(candidates.texts)))
    owners |= _ids(session, select(CampaignDelivery.enrollee_id).where(
        CampaignDelivery.external_id.in_(
            [f"call:{i}" for i in candidates.calls] + [f"sms:{i}" for i in candidates.texts])))
    owners.discard(enrollee_id)
    return linked(session, owners)


def _ids(session: Session, query) -> set[int]:
    return {value for value in session.scalars(query) if value is not None}
