"""Alarm buttons to check: the weekly call asked for a press and no signal came.

The flag stays on the planned call until an operator has followed it up (rung the person,
had the button pressed while on the line, arranged a technician) and says so with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from telecare import audit
from telecare.actor import Actor
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import ButtonCheck, Device, DeviceState, PlannedCall, PlannedCallLog

# A flag older than this has been overtaken by the next weekly call's own check.
SHOWN_FOR = timedelta(days=8)
NOTE_MAX = 2000


@dataclass(frozen=True)
class DeviceCheck:
    planned: PlannedCall
    last_test_at: datetime | None  # the person's latest button test, before or since

    @property
    def tested_since(self) -> bool:
        """The button has sent a test since the call flagged it: likely fine now."""
        return (self.last_test_at is not None and self.planned.button_asked_at is not None
                and self.last_test_at > self.planned.button_asked_at)


def flagged(session: Session, now: datetime, limit: int = 100) -> list[DeviceCheck]:
    """The open flags, oldest first, with each person's latest button test."""
    rows = session.scalars(
        select(PlannedCall).options(joinedload(PlannedCall.enrollee))
        .where(PlannedCall.button_check == ButtonCheck.FLAGGED,
               PlannedCall.completed_at >= now - SHOWN_FOR)
        .order_by(PlannedCall.completed_at).limit(limit)).all()
    tests = dict(session.execute(
        select(Device.enrollee_id, func.max(Device.last_test_at))
        .where(Device.enrollee_id.in_({r.enrollee_id for r in rows}),
               Device.state == DeviceState.ACTIVE)
        .group_by(Device.enrollee_id)).all()) if rows else {}
    return [DeviceCheck(row, tests.get(row.enrollee_id)) for row in rows]


def mark_checked(session: Session, planned_id: int, actor: Actor, note: str,
                 now: datetime) -> PlannedCall:
    """An operator followed the flag up: what they found goes on the call's log."""
    planned = session.get(PlannedCall, planned_id, with_for_update=True)
    note = " ".join(note.split())
    errors = []
    if planned is None or planned.button_check != ButtonCheck.FLAGGED:
        errors.append(FieldError("button_check", N_("this button check is not open")))
    if not note:
        errors.append(FieldError("note", N_("say what you found")))
    elif len(note) > NOTE_MAX:
        errors.append(FieldError("note", N_("is longer than %(limit)d characters"),
                                 {"limit": NOTE_MAX}))
    if errors:
        raise ValidationFailed(errors)
    planned.button_check = ButtonCheck.CHECKED
    planned.updated_at = now
    session.add(PlannedCallLog(planned_call=planned, attempt=planned.attempts, at=now,
                               result=planned.result, note=note, user_id=actor.user_id,
                               detail="button checked"))
    audit.record(session, actor, "button_checked", "planned_call", planned.id, now)
    return planned
