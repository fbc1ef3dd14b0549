"""Alarm state: the one place it changes. Open (or repeat), acknowledge, clear, note, resolve."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from blinker import Namespace
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telecare.actor import Actor
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    AlarmNotification,
    AlarmState,
    DeviceCommand,
    NotificationState,
    Outcome,
    Severity,
)

signals = Namespace()
# Sent with the alarm's id once the transaction that opened it has committed, so whoever
# listens (the escalation engine, the live queue) can read the row at once.
alarm_opened = signals.signal("alarm-opened")
_PENDING = "telecare.alarms.opened"


def raise_alarm(session: Session, *, enrollee_id: int | None, kind: AlarmKind,
                severity: Severity, now: datetime, device_id: int | None = None,
                actor: Actor | None = None, **detail) -> tuple[Alarm, bool]:
    """Open an alarm, or add to the unresolved one of the same enrollee and kind.

    Returns the alarm and whether it is new.
    """
    actor = actor or Actor.system()
    existing = _unresolved(session, enrollee_id, kind, device_id)
    if existing is None:
        # next_step_at = now: the escalation engine takes it up at its next sweep (at once,
        # when it runs in this process and hears alarm_opened).
        alarm = Alarm(enrollee_id=enrollee_id, device_id=device_id, kind=kind, severity=severity,
                      state=AlarmState.OPEN, opened_at=now, last_event_at=now,
                      code=f"{secrets.randbelow(9000) + 1000}", next_step_at=now)
        try:
            # A savepoint: a second process may open the same alarm at the same moment,
            # and the unique index lets only one win.
            with session.begin_nested():
                session.add(alarm)
                session.flush()
        except IntegrityError:
            existing = _unresolved(session, enrollee_id, kind)
            if existing is None:
                raise
        else:
            _add_event(session, alarm, "opened", actor, now, severity=severity.value, **detail)
            session.info.setdefault(_PENDING, []).append(alarm.id)
            return alarm, True
    existing.last_event_at = now
    if existing.cleared_at is not None:
        # The condition is back (a device offline again): no new alarm, but no longer cleared.
        existing.cleared_at = None
    if _rank(severity) < _rank(existing.severity):
        existing.severity = severity  # a fall after a low battery is a fall
    _add_event(session, existing, "repeated", actor, now, **detail)
    return existing, False


def acknowledge(session: Session, alarm: Alarm, actor: Actor, via: str, now: datetime,
                **detail) -> None:
    """Someone has taken charge: the ladder stops and the device hears help is coming."""
    if alarm.state != AlarmState.OPEN:
        raise ValidationFailed([FieldError("state", N_("the alarm is already %(state)s"),
                                           {"state": alarm.state.value})])
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged_at, alarm.acknowledged_by_id, alarm.acknowledged_via = (
        now, actor.user_id, via)
    alarm.first_acknowledged_at = alarm.first_acknowledged_at or now
    # Taken charge of but never closed: after the timeout it comes back to the queue.
    alarm.next_step_at = now + timedelta(seconds=alarm.ack_timeout_s) if alarm.ack_timeout_s \
        else None
    _cancel_pending(session, alarm, now)
    if alarm.device_id is not None and alarm.kind in (AlarmKind.BUTTON, AlarmKind.FALL):
        session.add(DeviceCommand(device_id=alarm.device_id, command="help_coming",
                                  fields={"alarm": alarm.id}, created_at=now))
    _add_event(session, alarm, "acknowledged", actor, now, via=via, **detail)


def requeue(session: Session, alarm: Alarm, now: datetime) -> None:
    """Acknowledged but not resolved in time: back to the operators' queue, time box anew."""
    if alarm.state != AlarmState.ACKNOWLEDGED:
        return
    box = (alarm.time_box_at - alarm.opened_at) if alarm.time_box_at else None
    alarm.state = AlarmState.OPEN
    alarm.claimed_by_id = alarm.claimed_at = None
    alarm.escalated_at = None
    alarm.time_box_at = now + box if box else None
    alarm.next_step_at = alarm.time_box_at
    _add_event(session, alarm, "requeued", Actor.system(), now,
               acknowledged_by=alarm.acknowledged_via)


def claim(session: Session, alarm: Alarm, actor: Actor, now: datetime) -> None:
    """An operator takes the alarm to work on it; nobody else can claim it meanwhile."""
    if alarm.state == AlarmState.RESOLVED:
        raise ValidationFailed([FieldError("state", N_("the alarm is already resolved"))])
    # One statement, so two operators clicking at once cannot both win.
    won = session.execute(
        update(Alarm).where(Alarm.id == alarm.id, (Alarm.claimed_by_id.is_(None))
                            | (Alarm.claimed_by_id == actor.user_id))
        .values(claimed_by_id=actor.user_id, claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(alarm)
    if not won:
        raise ValidationFailed([FieldError("claimed_by", N_("another operator has claimed it"))])
    _add_event(session, alarm, "claimed", actor, now)


def release(session: Session, alarm: Alarm, actor: Actor, now: datetime) -> None:
    if alarm.claimed_by_id == actor.user_id:
        alarm.claimed_by_id = alarm.claimed_at = None
        _add_event(session, alarm, "released", actor, now)


def probable_false_alarm(session: Session, alarm: Alarm, now: datetime, **detail) -> None:
    """The person pressed 1 on the call-back: the ladder stops; an operator still closes it."""
    alarm.probable_false_alarm = True
    if alarm.state == AlarmState.OPEN:
        acknowledge(session, alarm, Actor("enrollee"), "enrollee", now, **detail)
    else:
        _add_event(session, alarm, "enrollee_ok", Actor("enrollee"), now, **detail)


def record(session: Session, alarm: Alarm, kind: str, now: datetime,
           actor: Actor | None = None, **detail) -> None:
    """A line on the alarm's timeline: a step, a call, a text, a key pressed."""
    _add_event(session, alarm, kind, actor or Actor.system(), now, **detail)


def _cancel_pending(session: Session, alarm: Alarm, now: datetime) -> None:
    session.execute(
        update(AlarmNotification)
        .where(AlarmNotification.alarm_id == alarm.id,
               AlarmNotification.state == NotificationState.PENDING)
        .values(state=NotificationState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False))


def clear(session: Session, alarm: Alarm, now: datetime, reason: str) -> None:
    """The condition went away by itself; an operator still acknowledges and resolves it."""
    if alarm.cleared_at is None and alarm.state != AlarmState.RESOLVED:
        alarm.cleared_at = now
        _add_event(session, alarm, "cleared", Actor.system(), now, reason=reason)


def add_note(session: Session, alarm: Alarm, actor: Actor, text: str, now: datetime) -> None:
    if not text.strip():
        raise ValidationFailed([FieldError("note", N_("is required"))])
    _add_event(session, alarm, "note", actor, now, text=text.strip())


def resolve(session: Session, alarm: Alarm, actor: Actor, outcome: Outcome | str, note: str,
            now: datetime) -> None:
    errors = []
    if alarm.state == AlarmState.RESOLVED:
        errors.append(FieldError("state", N_("the alarm is already resolved")))
    try:
        outcome = Outcome(outcome)
    except ValueError:
        errors.append(FieldError("outcome", N_("%(value)s is not one of %(choices)s"),
                                 {"value": outcome,
                                  "choices": ", ".join(o.value for o in Outcome)}))
    if not note.strip():
        errors.append(FieldError("note", N_("is required")))
    if errors:
        raise ValidationFailed(errors)
    if alarm.state == AlarmState.OPEN:
        acknowledge(session, alarm, actor, "console", now)
    alarm.state = AlarmState.RESOLVED
    alarm.next_step_at = None
    alarm.claimed_by_id = alarm.claimed_at = None
    _cancel_pending(session, alarm, now)
    alarm.resolved_at, alarm.resolved_by_id = now, actor.user_id
    alarm.outcome, alarm.outcome_note = outcome, note.strip()
    _add_event(session, alarm, "resolved", actor, now, outcome=outcome.value)


def unresolved_for_device(session: Session, device_id: int, kind: AlarmKind) -> Alarm | None:
    """The device's alarm of this kind still waiting for an operator, if any."""
    return session.scalars(
        select(Alarm).where(Alarm.device_id == device_id, Alarm.kind == kind,
                            Alarm.state != AlarmState.RESOLVED)
    ).first()


def _unresolved(session: Session, enrollee_id: int | None, kind: AlarmKind,
                device_id: int | None = None) -> Alarm | None:
    if enrollee_id is None:
        # An unassigned device's alarms group by device, so a bouncing one does not flood.
        return None if device_id is None else unresolved_for_device(session, device_id, kind)
    return session.scalars(
        select(Alarm).where(Alarm.enrollee_id == enrollee_id, Alarm.kind == kind,
                            Alarm.state != AlarmState.RESOLVED)
    ).first()


def _add_event(session: Session, alarm: Alarm, kind: str, actor: Actor, now: datetime,
               **detail) -> None:
    session.add(AlarmEvent(alarm=alarm, at=now, kind=kind, actor=actor.name,
                           user_id=actor.user_id, detail=detail))


def _rank(severity: Severity) -> int:
    return [Severity.CRITICAL, Severity.HIGH, Severity.LOW].index(severity)


@event.listens_for(Session, "after_commit")
def _announce_opened(session: Session) -> None:
    for alarm_id in session.info.pop(_PENDING, []):
        alarm_opened.send(alarm_id)


@event.listens_for(Session, "after_rollback")
def _forget_opened(session: Session) -> None:
    session.info.pop(_PENDING, None)
