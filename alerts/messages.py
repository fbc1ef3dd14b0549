"""Placing one notification of a ladder: the call or text, in the person's language."""

from __future__ import annotations

import logging
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from telecare import alarms
from telecare.db import begin_writing, session_scope
from telecare.models import Alarm, AlarmNotification, Enrollee, NotificationState
from telecare.runtime import Runtime
from telecare.telephony.port import TelephonyError
from telecare.telephony.twiml import wording

log = logging.getLogger(__name__)

PURPOSE = "escalation"  # a critical purpose: no per-number limit holds it back


class SenderPort(Protocol):
    def call(self, to: str, *, purpose: str, script: str, language: str, params: dict,
             expected_digit: str) -> int:
        """Place a call; returns the call attempt's id. Raises TelephonyError."""

    def text(self, to: str, body: str, *, purpose: str) -> int:
        """Send an SMS; returns its id. Raises TelephonyError."""


class PhoneSender:
    """SenderPort over the core's Dialer and Messenger."""

    def __init__(self, dialer, messenger):
        self.dialer, self.messenger = dialer, messenger

    def call(self, to, *, purpose, script, language, params, expected_digit) -> int:
        return self.dialer.call(to, purpose=purpose, script=script, language=language,
                                params=params, expected_digit=expected_digit)

    def text(self, to, body, *, purpose) -> int:
        return self.messenger.send(to, body, purpose=purpose)


def address_params(enrollee: Enrollee | None) -> dict[str, str]:
    """Street and floor apart: each language says the floor its own way ("piano 3")."""
    if enrollee is None:
        return {"address": "", "floor": ""}
    return {"address": enrollee.address_street, "floor": enrollee.address_floor or ""}


@dataclass(frozen=True)
class Job:
    """One claimed notification, read and worded, ready to hand to the phone network."""

    notification_id: int
    channel: str
    to: str
    language: str
    script: str = ""
    params: dict = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True)
class Placed:
    notification_id: int
    external: int | None = None
    error: str = ""


def prepare(runtime: Runtime, notification_ids: list[int]) -> list[Job]:
    """Read and word a batch of claimed notifications, in one read transaction."""
    if not notification_ids:
        return []
    settings = runtime.settings
    now = runtime.clock.now()
    jobs = []
    with session_scope(runtime.sessions) as session:
        notifications = session.scalars(select(AlarmNotification).where(
            AlarmNotification.id.in_(notification_ids))).all()
        found = {n.alarm_id for n in notifications}
        by_id = {a.id: a for a in session.scalars(select(Alarm).where(Alarm.id.in_(found))
                                                  .options(selectinload(Alarm.device)))}
        people = {e.id: e for e in session.scalars(select(Enrollee).where(Enrollee.id.in_(
            {a.enrollee_id for a in by_id.values() if a.enrollee_id})))}
        for notification in notifications:
            alarm = by_id[notification.alarm_id]
            enrollee = people.get(alarm.enrollee_id)
            who = enrollee.full_name if enrollee else (alarm.device.serial if alarm.device
                                                       else "")
            base = dict(notification_id=notification.id, channel=notification.channel,
                        to=notification.number, language=notification.language)
            if notification.channel == "voice":
                if notification.target == "enrollee":
                    script, params = "alarm_callback", {
                        "name": who, "choices": {"9": "help_on_the_way"},
                        "thanks": "callback_ok"}
                else:
                    script, params = "alarm", {
                        "name": who, **address_params(enrollee),
                        "operator": settings.alerts.operator_number, "thanks": "alarm_thanks"}
                # What happened, in words that fit: only a button, a fall or a request is
                # "asking for help"; a missed call or a silent device is said as such.
                params["kind"] = alarm.kind.value
                params["notification"] = notification.id
                jobs.append(Job(**base, script=script, params=params))
            else:
                line = "alarm_sms_supervisor" if notification.target.startswith(
                    "supervisor") else "alarm_sms_contact"
                body = wording(notification.language, line, name=who,
                                **address_params(enrollee), code=alarm.code, alarm=alarm.id,
                                kind=alarm.kind.value,
                                minutes=round((now - alarm.opened_at).total_seconds() / 60))
                jobs.append(Job(**base, body=body))
    return jobs


def place(sender: SenderPort, job: Job) -> Placed:
    """Hand one job to the phone network: no database here, so senders run side by side."""
    try:
        if job.channel == "voice":
            external = sender.call(job.to, purpose=PURPOSE, script=job.script,
                                   language=job.language, params=job.params,
                                   expected_digit="1")
        else:
            external = sender.text(job.to, job.body, purpose=PURPOSE)
    except TelephonyError as exc:
        return Placed(job.notification_id, error=exc.message or "telephony error")
    except Exception as exc:  # a bug must not leave the notification claimed forever
        log.exception("alerts: placing notification %s failed", job.notification_id)
        return Placed(job.notification_id, error=f"internal error: {exc}")
    return Placed(job.notification_id, external)


def record(runtime: Runtime, results: list[Placed]) -> None:
    """What became of a batch, and its lines on the timelines, in one write transaction."""
    if not results:
        return
    now = runtime.clock.now()
    with session_scope(runtime.sessions) as session:
        begin_writing(session)
        notifications = {n.id: n for n in session.scalars(select(AlarmNotification).where(
            AlarmNotification.id.in_([r.notification_id for r in results])))}
        by_id = {a.id: a for a in session.scalars(select(Alarm).where(Alarm.id.in_(
            {n.alarm_id for n in notifications.values()})))}
        for result in results:
            notification = notifications[result.notification_id]
            alarm = by_id[notification.alarm_id]
            if result.error:
                notification.state = NotificationState.FAILED
                notification.error, notification.updated_at = result.error[:500], now
                alarms.record(session, alarm, f"{notification.channel}_failed", now,
                              to=notification.name, number=notification.number,
                              error=result.error[:200], notification=notification.id)
                log.warning("alerts: %s to %s failed: %s", notification.channel,
                            notification.number, result.error)
                continue
            if notification.channel == "voice":
                notification.call_attempt_id = result.external
            else:
                notification.sms_id = result.external
            # A quick callee may have answered (and so moved the state on) meanwhile: a
            # conditional UPDATE, re-checked against that webhook's commit, never undoes it.
            session.execute(update(AlarmNotification)
                            .where(AlarmNotification.id == notification.id,
                                   AlarmNotification.state == NotificationState.SENDING)
                            .values(state=NotificationState.SENT, updated_at=now)
                            .execution_options(synchronize_session=False))
            alarms.record(session, alarm, "call" if notification.channel == "voice" else "sms",
                          now, to=notification.name, number=notification.number,
                          notification=notification.id)


def notify(runtime: Runtime, sender: SenderPort, notification_ids: list[int],
           pool=None) -> None:
    """Prepare, place (side by side in `pool` if given) and record a batch."""
    jobs = prepare(runtime, notification_ids)
    if pool is None:
        record(runtime, [place(sender, job) for job in jobs])
        return
    placed, unplaced = [], []
    for job, future in [(job, _submit(pool, sender, job)) for job in jobs]:
        if future is None or future.cancelled():
            unplaced.append(job.notification_id)
            continue
        try:
            placed.append(future.result())
        except CancelledError:  # the engine is stopping: this one never went out
            unplaced.append(job.notification_id)
    record(runtime, placed)
    give_back(runtime, unplaced)


def _submit(pool, sender: SenderPort, job: Job):
    try:
        return pool.submit(place, sender, job)
    except RuntimeError:  # the pool is shut down: the engine is stopping
        return None


def give_back(runtime: Runtime, notification_ids: list[int]) -> None:
    """Claimed but never placed (the engine stopped first): pending again, for any engine."""
    if not notification_ids:
        return
    with session_scope(runtime.sessions) as session:
        begin_writing(session)
        session.execute(update(AlarmNotification)
                        .where(AlarmNotification.id.in_(notification_ids),
                               AlarmNotification.state == NotificationState.SENDING)
                        .values(state=NotificationState.PENDING,
                                updated_at=runtime.clock.now())
                        .execution_options(synchronize_session=False))
    log.info("alerts: %d notifications given back unplaced, for the next engine",
             len(notification_ids))
