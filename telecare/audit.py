"""Writing to the audit log. Entries are only ever added."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from telecare.actor import Actor
from telecare.models import AuditEntry


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    now: datetime,
    **detail,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        user_id=actor.user_id,
        actor=actor.name,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        detail=detail,
    )
    session.add(entry)
    return entry
