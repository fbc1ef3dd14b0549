"""One person's data as a JSON document (GDPR art. 15 access, art. 20 portability).

Everything held about them: the record, phones, contacts, consent, their devices and what
those reported, their alarms with timelines and the calls and texts of each ladder, their
planned calls with each attempt, the calls and texts to their numbers, the warnings sent to
them, and the audit log's entries about them (who read or changed the record, and when).
Rows are given whole, column by column, so nothing held is left out by omission; times are
ISO 8601 in UTC. Every export is itself written to the audit log.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from enum import Enum

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from telecare import audit
from telecare.actor import Actor
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import (
    Alarm,
    AlarmEvent,
    AlarmNotification,
    AuditEntry,
    CallAttempt,
    Campaign,
    CampaignDelivery,
    Device,
    DeviceEvent,
    Enrollee,
    PlannedCall,
    SmsMessage,
)
from telecare.privacy.erasure import due_at
from telecare.privacy.telephony import belonging_to
from telecare.settings import PrivacySettings

FORMAT = "telecare-enrollee-export"
VERSION = 1
# API listings record the ids of the records each page returned; read this many at a time.
BATCH = 1000


def export(session: Session, enrollee_id: int, actor: Actor, now: datetime,
           privacy: PrivacySettings) -> dict:
    """The document, as plain JSON types; the export is audited in the caller's transaction."""
    enrollee = session.get(Enrollee, enrollee_id)
    if enrollee is None:
        raise ValidationFailed([FieldError("enrollee_id", N_("there is no record %(id)s"),
                                           {"id": enrollee_id})])
    # Recorded first, so the document lists its own export among the accesses.
    audit.record(session, actor, "export", "enrollee", enrollee.id, now, format="json")
    session.flush()
    alarms = list(session.scalars(select(Alarm).where(Alarm.enrollee_id == enrollee.id)
                                  .order_by(Alarm.id)))
    planned = list(session.scalars(select(PlannedCall).where(
        PlannedCall.enrollee_id == enrollee.id).order_by(PlannedCall.planned_at, PlannedCall.id)))
    records = belonging_to(session, enrollee.id, [p.number for p in enrollee.phones])
    due = due_at(enrollee, privacy)
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": _value(now),
        "generated_by": actor.name,
        "enrollee": row(enrollee),
        "retention": {"retention_days": privacy.retention_days, "erasure_due_at": _value(due),
                      "erased_at": _value(enrollee.erased_at)},
        "phones": [row(p, skip={"enrollee_id"}) for p in enrollee.phones],
        "contacts": [row(c, skip={"enrollee_id"}) for c in enrollee.contacts],
        "consent": {"date": _value(enrollee.consent_date), "note": enrollee.consent_note},
        "devices": _devices(session, enrollee, alarms),
        "alarms": [_alarm(session, alarm) for alarm in alarms],
        "planned_calls": [row(call) | {"log": [row(entry, skip={"planned_call_id"})
                                               for entry in call.log]} for call in planned],
        "calls": _rows(session, CallAttempt, records.calls),
        "texts": _rows(session, SmsMessage, records.texts),
        "warnings": _warnings(session, enrollee.id),
        "audit": _audit(session, enrollee.id, [a.id for a in alarms], [c.id for c in planned]),
    }


def to_json(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def row(obj, skip: set[str] = frozenset()) -> dict:
    """Every column of a row, as JSON values."""
    return {attr.key: _value(getattr(obj, attr.key))
            for attr in inspect(type(obj)).column_attrs if attr.key not in skip}


def _value(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def _rows(session: Session, model, ids: set[int]) -> list[dict]:
    if not ids:
        return []
    return [row(r) for r in session.scalars(select(model).where(model.id.in_(ids))
                                            .order_by(model.id))]


def _devices(session: Session, enrollee: Enrollee, alarms: list[Alarm]) -> list[dict]:
    """Their devices now, and those their alarms came from, each with what it reported.

    A device's events count as the person's from their enrolment on, or when they raised one
    of the person's alarms: a pendant handed on from someone else brings no one else's past.
    """
    alarm_ids = [a.id for a in alarms]
    ids = set(session.scalars(select(Device.id).where(Device.enrollee_id == enrollee.id)))
    ids |= {a.device_id for a in alarms if a.device_id is not None}
    documents = []
    for device in session.scalars(select(Device).where(Device.id.in_(ids)).order_by(Device.id)):
        theirs = DeviceEvent.alarm_id.in_(alarm_ids)
        if device.enrollee_id == enrollee.id:
            theirs = or_(theirs, DeviceEvent.received_at >= enrollee.enrolled_at)
        events = session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == device.id,
                                                           theirs).order_by(DeviceEvent.id))
        documents.append(row(device) | {"events": [row(e, skip={"device_id"}) for e in events]})
    return documents


def _alarm(session: Session, alarm: Alarm) -> dict:
    timeline = session.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id == alarm.id)
                               .order_by(AlarmEvent.id))
    notifications = session.scalars(select(AlarmNotification)
                                    .where(AlarmNotification.alarm_id == alarm.id)
                                    .order_by(AlarmNotification.id))
    return row(alarm) | {"timeline": [row(e, skip={"alarm_id"}) for e in timeline],
                         "notifications": [row(n, skip={"alarm_id"}) for n in notifications]}


def _warnings(session: Session, enrollee_id: int) -> list[dict]:
    found = session.execute(select(CampaignDelivery, Campaign)
                            .join(Campaign, Campaign.id == CampaignDelivery.campaign_id)
                            .where(CampaignDelivery.enrollee_id == enrollee_id)
                            .order_by(CampaignDelivery.id))
    return [row(delivery, skip={"enrollee_id"}) | {"campaign": {
        "kind": _value(campaign.kind), "title": campaign.title, "channel": campaign.channel,
        "valid_from": _value(campaign.valid_from), "valid_until": _value(campaign.valid_until),
        "messages": campaign.messages}} for delivery, campaign in found]


def _audit(session: Session, enrollee_id: int, alarm_ids: list[int],
           planned_ids: list[int]) -> list[dict]:
    """Entries about the record, its alarms and its calls, and the API pages that listed it."""
    about = or_((AuditEntry.entity_type == "enrollee") & (AuditEntry.entity_id == enrollee_id),
                (AuditEntry.entity_type == "alarm") & AuditEntry.entity_id.in_(alarm_ids),
                (AuditEntry.entity_type == "planned_call")
                & AuditEntry.entity_id.in_(planned_ids))
    entries = list(session.scalars(select(AuditEntry).where(about)))
    listings = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "enrollee",
                                 AuditEntry.entity_id.is_(None), AuditEntry.action == "list")
        .execution_options(yield_per=BATCH))
    entries += [e for e in listings if enrollee_id in (e.detail or {}).get("ids", [])]
    return [row(e) for e in sorted(entries, key=lambda e: e.id)]
