"""Placing one notification of a ladder: the call or text, in the person's language."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from sqlalchemy import update

from telecare import alarms
from telecare.db import begin_writing, session_scope
from telecare.models import Alarm, AlarmNotification, Enrollee, NotificationState
from telecare.runtime import Runtime
from telecare.telephony.port import TelephonyError

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
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


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False,
                       undefined=StrictUndefined)


def sms_text(language: str, line: str, **params) -> str:
    """One SMS in the reader's language (Italian when we have none in theirs)."""
    try:
        template = _environment().get_template(f"{language}/{line}.txt")
    except TemplateNotFound:
        template = _environment().get_template(f"it/{line}.txt")
    return " ".join(template.render(**params).split())


def address(enrollee: Enrollee | None) -> str:
    if enrollee is None:
        return ""
    floor = f", {enrollee.address_floor}" if enrollee.address_floor else ""
    return f"{enrollee.address_street}{floor}"


def notify(runtime: Runtime, sender: SenderPort, notification_id: int) -> None:
    """Place one claimed notification and record on the timeline what became of it."""
    settings = runtime.settings
    with session_scope(runtime.sessions) as session:
        notification = session.get(AlarmNotification, notification_id)
        alarm = session.get(Alarm, notification.alarm_id)
        enrollee = session.get(Enrollee, alarm.enrollee_id) if alarm.enrollee_id else None
        who = enrollee.full_name if enrollee else (alarm.device.serial if alarm.device else "")
        to, channel, language = notification.number, notification.channel, notification.language
        target = notification.target
        code, kind, alarm_id = alarm.code, alarm.kind.value, alarm.id
        minutes = round((runtime.clock.now() - alarm.opened_at).total_seconds() / 60)
        place = address(enrollee)
        session.rollback()
    try:
        if channel == "voice":
            if target == "enrollee":
                script, params = "alarm_callback", {
                    "name": who, "choices": {"9": "help_on_the_way"}, "thanks": "callback_ok"}
            else:
                script, params = "alarm", {"name": who, "address": place,
                                           "operator": settings.alerts.operator_number,
                                           "thanks": "alarm_thanks"}
            params["notification"] = notification_id
            external = sender.call(to, purpose=PURPOSE, script=script, language=language,
                                   params=params, expected_digit="1")
        else:
            line = "supervisor" if target.startswith("supervisor") else "contact"
            body = sms_text(language, line, name=who, address=place, code=code,
                            alarm=alarm_id, kind=kind, minutes=minutes)
            external = sender.text(to, body, purpose=PURPOSE)
    except TelephonyError as exc:
        _record(runtime, notification_id, failed=exc.message)
        return
    _record(runtime, notification_id, external=external)


def record_failure(runtime: Runtime, notification_id: int, reason: str) -> None:
    _record(runtime, notification_id, failed=reason)


def _record(runtime: Runtime, notification_id: int, *, external: int | None = None,
            failed: str = "") -> None:
    now = runtime.clock.now()
    with session_scope(runtime.sessions) as session:
        begin_writing(session)
        notification = session.get(AlarmNotification, notification_id)
        alarm = session.get(Alarm, notification.alarm_id)
        if failed:
            notification.state, notification.error = NotificationState.FAILED, failed[:500]
            alarms.record(session, alarm, f"{notification.channel}_failed", now,
                          to=notification.name, number=notification.number, error=failed[:200],
                          notification=notification_id)
            log.warning("alerts: %s to %s failed: %s", notification.channel,
                        notification.number, failed)
            return
        if notification.channel == "voice":
            notification.call_attempt_id = external
        else:
            notification.sms_id = external
        # A quick callee may have answered (and so moved the state on) before we got here.
        session.execute(update(AlarmNotification)
                        .where(AlarmNotification.id == notification_id,
                               AlarmNotification.state == NotificationState.SENDING)
                        .values(state=NotificationState.SENT, updated_at=now)
                        .execution_options(synchronize_session=False))
        alarms.record(session, alarm, "call" if notification.channel == "voice" else "sms", now,
                      to=notification.name, number=notification.number,
                      notification=notification_id)
