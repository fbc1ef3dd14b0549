"""What an operator asks of the engine from the console: call the person back now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telecare import alarms
from telecare.actor import Actor
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import Alarm, AlarmNotification, AlarmState, Enrollee, NotificationState

MANUAL_STEP = -1  # not a rung of the ladder: its outcome never moves the ladder on


def request_callback(session: Session, alarm: Alarm, actor: Actor, now: datetime) -> int:
    """Queue an automated call-back to the person ("press 1 if all is well, 9 for help").

    Written as a pending notification: the engine's senders place it within a second,
    whichever process they run in. Returns the notification's id.
    """
    if alarm.state == AlarmState.RESOLVED:
        raise ValidationFailed([FieldError("state", N_("the alarm is already resolved"))])
    enrollee = session.get(Enrollee, alarm.enrollee_id) if alarm.enrollee_id else None
    if enrollee is None or not enrollee.phones:
        raise ValidationFailed([FieldError("phones", N_("the person has no phone number"))])
    earlier = session.scalar(select(func.count()).select_from(AlarmNotification).where(
        AlarmNotification.alarm_id == alarm.id, AlarmNotification.step == MANUAL_STEP))
    notification = AlarmNotification(
        alarm_id=alarm.id, key=f"{alarm.id}:manual:enrollee:voice:{earlier + 1}",
        step=MANUAL_STEP, target="enrollee", name=enrollee.full_name, channel="voice",
        number=enrollee.phones[0].number, language=enrollee.language,
        state=NotificationState.PENDING, created_at=now, updated_at=now)
    try:
        # Two operators clicking at once would make the same key: one call, not two.
        with session.begin_nested():
            session.add(notification)
            session.flush()
    except IntegrityError:
        raise ValidationFailed([FieldError(
            "callback", N_("a call-back was requested a moment ago"))]) from None
    alarms.record(session, alarm, "callback_requested", now, actor,
                  number=notification.number, notification=notification.id)
    return notification.id
