"""What the alarm pages show: the queue's order, an alarm's card, its timeline in words."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from alerts.emergency import emergency_script
from alerts.policy import PolicyBook, load_book
from telecare.enrolment.municipalities import lookup
from telecare.enrolment.rules import age_on
from telecare.models import (
    Alarm,
    AlarmEvent,
    AlarmState,
    CallAttempt,
    Device,
    DeviceState,
    Enrollee,
    Severity,
    User,
)
from web.db import runtime
from web.labels import ALARM_KINDS, LANGUAGES

# A queue longer than this is a disaster, not a worklist: the page says how many more wait.
QUEUE_LIMIT = 200
RECENT_CALLS = 5

KINDS = ALARM_KINDS  # one wording for alarm kinds across the console
SEVERITIES = {"critical": _l("critical"), "high": _l("high"), "low": _l("low")}
ALARM_STATES = {"open": _l("open"), "acknowledged": _l("taken charge"),
                "resolved": _l("resolved")}
OUTCOMES = {
    "false_alarm": _l("False alarm"), "resolved_by_phone": _l("Resolved by phone"),
    "contact_attended": _l("A contact went there"), "doctor": _l("Doctor"),
    "emergency_services": _l("Emergency services sent"), "hospitalised": _l("Hospitalised"),
    "other": _l("Other"),
}
LADDER_ACTIONS = {
    "queue": _l("Operator queue"), "callback": _l("Automatic call to the person"),
    "contacts": _l("Contact"), "doctor": _l("Doctor"), "supervisor": _l("Supervisor"),
    "emergency": _l("Emergency services (the operator calls)"),
}
VIA = {"console": _l("in the console"), "voice": _l("by phone"), "sms": _l("by SMS"),
       "enrollee": _l("by the person")}
CALL_OUTCOMES = {
    "confirmed": _l("confirmed with a key"), "answered_no_input": _l("answered, no key"),
    "voicemail": _l("voicemail"), "no_answer": _l("no answer"), "busy": _l("busy"),
    "failed": _l("failed"), "canceled": _l("cancelled"),
}
SCRIPT_LINES = {
    "name": _l("Name"), "age": _l("Age"), "address": _l("Address"), "floor": _l("Floor"),
    "access": _l("Access to the home"), "key_holders": _l("Key holders"),
    "lives_alone": _l("Lives alone"), "health": _l("Health notes"),
    "language": _l("Language"), "phone": _l("Phone"), "alarm": _l("Alarm"),
    "device": _l("Device"),
}
# Each line of the timeline, in words; the event's detail fills in the blanks.
EVENTS = {
    "opened": _l("Alarm opened"),
    "repeated": _l("Raised again: joined this alarm"),
    "acknowledged": _l("Taken charge %(via)s"),
    "claimed": _l("Claimed"),
    "released": _l("Released"),
    "requeued": _l("Back in the queue: taken charge of but not resolved in time"),
    "enrollee_ok": _l("The person said all is well"),
    "cleared": _l("The condition cleared by itself"),
    "note": _l("Note: %(text)s"),
    "resolved": _l("Resolved: %(outcome)s"),
    "step": _l("Step %(step)s: %(action)s %(to)s"),
    "deferred": _l("Step %(step)s waits for the end of quiet hours"),
    "time_box": _l("Time box reached after %(minutes)s minutes: straight to step %(step)s"),
    "call": _l("Calling %(to)s (%(number)s)"),
    "sms": _l("Text sent to %(to)s (%(number)s)"),
    "voice_failed": _l("Call to %(to)s failed: %(error)s"),
    "sms_failed": _l("Text to %(to)s failed: %(error)s"),
    "key_pressed": _l("%(to)s pressed %(digits)s"),
    "enrollee_needs_help": _l("The person pressed 9: they need help"),
    "call_ended": _l("Call to %(to)s ended: %(outcome)s"),
    "sms_reply": _l("%(to)s replied by SMS with the alarm's code"),
    "callback_requested": _l("Call-back to the person requested (%(number)s)"),
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def severity_rank():
    return case({Severity.CRITICAL: 0, Severity.HIGH: 1}, value=Alarm.severity, else_=2)


def queue(session: Session) -> tuple[list[Alarm], int]:
    """Unresolved alarms: open before taken charge of, worst first, longest waiting first."""
    unresolved = Alarm.state != AlarmState.RESOLVED
    total = session.scalar(select(func.count()).select_from(Alarm).where(unresolved))
    alarms = session.scalars(
        select(Alarm).where(unresolved)
        .options(joinedload(Alarm.enrollee), joinedload(Alarm.device))
        .order_by(case((Alarm.state == AlarmState.OPEN, 0), else_=1), severity_rank(),
                  Alarm.opened_at, Alarm.id)
        .limit(QUEUE_LIMIT)).all()
    return list(alarms), total


def user_names(session: Session, ids) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name, User.username)
                           .where(User.id.in_(wanted))).all()
    return {row.id: row.display_name or row.username for row in rows}


def policy_book() -> PolicyBook:
    """Read once per app: the emergency services do not change while it runs."""
    book = current_app.extensions.get("telecare.policy_book")
    if book is None:
        book = current_app.extensions["telecare.policy_book"] = load_book(runtime().settings)
    return book


def card(session: Session, alarm: Alarm, now) -> dict:
    """The enrollee card beside an alarm: who, where, who to call, their device, last calls."""
    enrollee = alarm.enrollee
    devices = [alarm.device] if alarm.device else []
    context = {"enrollee": enrollee, "devices": devices, "calls": [], "municipality": None,
               "age": None}
    if enrollee is None:
        return context
    context["municipality"] = lookup(enrollee.municipality_istat)
    context["age"] = age_on(enrollee.birth_date, now.astimezone(runtime().settings.zone).date())
    others = session.scalars(select(Device).where(
        Device.enrollee_id == enrollee.id, Device.state != DeviceState.RETIRED,
        Device.id != (alarm.device_id or 0)).order_by(Device.id)).all()
    context["devices"] = devices + list(others)
    numbers = [p.number for p in enrollee.phones]
    if numbers:
        context["calls"] = session.scalars(
            select(CallAttempt).where(CallAttempt.to_number.in_(numbers))
            .order_by(CallAttempt.created_at.desc(), CallAttempt.id.desc())
            .limit(RECENT_CALLS)).all()
    return context


def who(event: AlarmEvent, names: dict[int, str]) -> str:
    if event.user_id in names:
        return names[event.user_id]
    if event.actor == "system":
        return _("the system")
    if event.actor == "enrollee":
        return _("the person")
    if event.actor.startswith("contact:"):
        return event.actor.removeprefix("contact:")
    return event.actor


def describe(event: AlarmEvent) -> str:
    """One timeline line in the reader's language."""
    detail = _Blank({key: value for key, value in (event.detail or {}).items()
                     if value is not None})
    template = EVENTS.get(event.kind)
    if template is None:
        extra = ", ".join(f"{k}: {v}" for k, v in detail.items())
        return f"{event.kind} ({extra})" if extra else event.kind
    if "via" in detail:
        detail["via"] = _label(VIA, detail["via"])
    if "step" in detail and isinstance(detail["step"], int):
        detail["step"] = detail["step"] + 1  # people count rungs from one
    if "action" in detail:
        detail["action"] = _label(LADDER_ACTIONS, detail["action"])
    if isinstance(detail.get("to"), list):
        detail["to"] = ", ".join(detail["to"])
    if event.kind == "resolved":
        detail["outcome"] = _label(OUTCOMES, detail.get("outcome"))
    elif event.kind == "call_ended":
        detail["outcome"] = _label(CALL_OUTCOMES, detail.get("outcome")) or _("no outcome")
    text = str(template) % detail
    if event.kind == "step" and detail.get("service"):
        text += f" · {detail['service']} {detail.get('number', '')}"
    return text.strip()


def _label(mapping: dict, value) -> str:
    found = mapping.get(value)
    return str(found) if found is not None else str(value or "")


def timeline(session: Session, alarm: Alarm) -> list[dict]:
    names = user_names(session, (e.user_id for e in alarm.events))
    return [{"at": e.at, "who": who(e, names), "what": describe(e), "kind": e.kind}
            for e in alarm.events]


def shows_emergency(alarm: Alarm) -> bool:
    """The emergency script matters once the ladder has reached its end or was cut short."""
    if alarm.escalated_at is not None:
        return True
    if 0 <= alarm.step < len(alarm.ladder or []):
        return alarm.ladder[alarm.step].get("action") == "emergency"
    return False


def script(alarm: Alarm) -> dict | None:
    if alarm.state == AlarmState.RESOLVED or not shows_emergency(alarm):
        return None
    found = emergency_script(alarm, alarm.enrollee, policy_book())
    lines = []
    for what, value in found.lines:
        if what == "lives_alone":
            value = _("yes") if value == "yes" else _("no")
        elif what == "language":
            value = LANGUAGES.get(value, value)
        elif what == "alarm":
            value = str(KINDS.get(alarm.kind.value, alarm.kind.value))
        lines.append((_label(SCRIPT_LINES, what), value))
    return {"service": found.service, "lines": lines}


def history_query(kind: str, outcome: str, q: str):
    """Resolved alarms, filtered by kind, outcome and the start of the person's name."""
    query = select(Alarm).where(Alarm.state == AlarmState.RESOLVED)
    if kind in KINDS:
        query = query.where(Alarm.kind == kind)
    if outcome in OUTCOMES:
        query = query.where(Alarm.outcome == outcome)
    if q:
        query = query.join(Enrollee, Enrollee.id == Alarm.enrollee_id).where(or_(
            func.lower(Enrollee.last_name).startswith(q.lower(), autoescape=True),
            func.lower(Enrollee.first_name).startswith(q.lower(), autoescape=True)))
    return query
