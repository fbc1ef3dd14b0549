"""What people answer: a key pressed on a ladder's call, a call ending, an "OK <code>" text.

These run inside the Twilio webhook's transaction (the core sends its signals there), so
the acknowledgement commits with the key press that caused it, or not at all.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.messages import PURPOSE
from telecare import alarms
from telecare.actor import Actor
from telecare.models import (
    Alarm,
    AlarmNotification,
    AlarmState,
    CallAttempt,
    CallOutcome,
    NotificationState,
)
from telecare.telephony.calls import call_ended, key_pressed
from telecare.telephony.sms import acknowledgement_received

log = logging.getLogger(__name__)

FINAL = frozenset({NotificationState.CONFIRMED, NotificationState.UNANSWERED,
                   NotificationState.FAILED, NotificationState.CANCELLED})


def connect() -> None:
    """Listen to the core's telephony signals (idempotent: blinker keeps one of each)."""
    key_pressed.connect(on_key_pressed)
    call_ended.connect(on_call_ended)
    acknowledgement_received.connect(on_sms_acknowledgement)


def _ladder_call(session: Session,
                 attempt: CallAttempt) -> tuple[AlarmNotification, Alarm] | None:
    """The notification and alarm a call of ours is about, or None for any other call."""
    if attempt.purpose != PURPOSE:
        return None
    notification_id = attempt.params.get("notification")
    if not isinstance(notification_id, int):
        return None
    notification = session.get(AlarmNotification, notification_id)
    if notification is None:
        return None
    # The webhook can arrive before the sender has recorded which call this was.
    if notification.call_attempt_id is None:
        notification.call_attempt_id = attempt.id
    return notification, session.get(Alarm, notification.alarm_id)


def on_key_pressed(session: Session, *, attempt: CallAttempt, digits: str,
                   now: datetime) -> None:
    found = _ladder_call(session, attempt)
    if found is None:
        return
    notification, alarm = found
    alarms.record(session, alarm, "key_pressed", now, to=notification.name, digits=digits,
                  notification=notification.id)
    if notification.target == "enrollee":
        if digits == "9":
            # They need help: no waiting out the call-back's timeout.
            alarms.record(session, alarm, "enrollee_needs_help", now)
            if alarm.state == AlarmState.OPEN:
                alarm.next_step_at = now
        elif digits == attempt.expected_digit:
            alarms.probable_false_alarm(session, alarm, now, to=notification.name)
        return
    if digits != attempt.expected_digit:
        return
    notification.state, notification.updated_at = NotificationState.CONFIRMED, now
    if alarm.state == AlarmState.OPEN:
        alarms.acknowledge(session, alarm, _contact(notification), "voice", now,
                           contact=notification.name)


def on_call_ended(session: Session, *, attempt: CallAttempt, now: datetime) -> None:
    found = _ladder_call(session, attempt)
    if found is None:
        return
    notification, alarm = found
    if notification.state not in FINAL:
        notification.state = (NotificationState.CONFIRMED
                               if attempt.outcome == CallOutcome.CONFIRMED
                               else NotificationState.UNANSWERED)
        notification.updated_at = now
    alarms.record(session, alarm, "call_ended", now, to=notification.name,
                  outcome=attempt.outcome.value if attempt.outcome else "",
                  notification=notification.id)
    if alarm.state != AlarmState.OPEN or notification.step != alarm.step:
        return
    # Everyone on this rung has been tried and nobody took charge: next rung now, not at
    # the timeout. An alarm must never wait on a relative who does not pick up.
    session.flush()
    states = session.scalars(select(AlarmNotification.state).where(
        AlarmNotification.alarm_id == alarm.id, AlarmNotification.step == alarm.step,
        AlarmNotification.channel == "voice")).all()
    if states and all(state in FINAL - {NotificationState.CONFIRMED} for state in states):
        alarm.next_step_at = now


def on_sms_acknowledgement(session: Session, *, number: str, code: str,
                           now: datetime) -> None:
    """"OK 4821" from a number we texted about alarm 4821's person: they take charge."""
    notification = session.scalars(
        select(AlarmNotification).join(Alarm, Alarm.id == AlarmNotification.alarm_id)
        .where(Alarm.code == code, Alarm.state != AlarmState.RESOLVED,
               AlarmNotification.number == number)
        .order_by(AlarmNotification.id.desc())).first()
    if notification is None:
        log.info("alerts: SMS code %s from %s matches no alarm we texted them about",
                 code, number)
        return
    alarm = session.get(Alarm, notification.alarm_id)
    alarms.record(session, alarm, "sms_reply", now, to=notification.name, code=code)
    if notification.channel == "sms" and notification.state not in FINAL:
        notification.state, notification.updated_at = NotificationState.CONFIRMED, now
    if alarm.state == AlarmState.OPEN:
        alarms.acknowledge(session, alarm, _contact(notification), "sms", now,
                           contact=notification.name)


def _contact(notification: AlarmNotification) -> Actor:
    return Actor(f"contact:{notification.name}"[:100])
