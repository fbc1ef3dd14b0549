"""One attempt at a planned call, start to result; the retry and alarm rules.

The same rules whoever makes the call: the automated call reports its result from Twilio's
callbacks, an operator logs it from the worklist. Only an answer from the person counts:
after the last unanswered attempt a `missed_courtesy_calls` alarm opens and follows its
escalation policy; a request for help opens `help_requested` at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from telecare import alarms
from telecare.actor import Actor
from telecare.courtesy.calendar import CallCalendar
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import (
    AlarmKind,
    CallKind,
    CallResult,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    Severity,
)
from telecare.settings import CallsSettings

ANSWERED = frozenset({CallResult.WELL, CallResult.CONCERN, CallResult.HELP,
                      CallResult.OPERATOR})
# A missed birthday greeting is a pity, not a danger: only these kinds raise an alarm.
WATCHED_KINDS = frozenset({CallKind.COURTESY, CallKind.REASSURANCE})


def start(planned: PlannedCall, now: datetime, *, operator_id: int | None = None,
          call_attempt_id: int | None = None) -> None:
    """An attempt begins: the call rings, or an operator has opened it."""
    if planned.state not in (PlannedCallState.PLANNED, PlannedCallState.CALLING):
        raise ValidationFailed([FieldError("state", N_("this call is already %(state)s"),
                                           {"state": planned.state.value})])
    planned.state = PlannedCallState.CALLING
    planned.attempts += 1
    planned.attempt_started_at = now
    planned.next_attempt_at = None
    planned.operator_id = operator_id
    planned.call_attempt_id = call_attempt_id
    planned.button_check = None
    planned.button_asked_at = None
    planned.updated_at = now


def finish(session: Session, planned: PlannedCall, result: CallResult, settings: CallsSettings,
           calendar: CallCalendar, now: datetime, *, note: str = "", detail: str = "",
           actor: Actor | None = None) -> None:
    """The attempt under way came to `result`: log it, then close, retry, or raise an alarm."""
    if planned.state != PlannedCallState.CALLING:
        return  # already finished (a late callback after the lease ran out, a replay)
    actor = actor or Actor.system()
    session.add(PlannedCallLog(planned_call=planned, attempt=planned.attempts, at=now,
                               result=result, note=note.strip(), user_id=actor.user_id,
                               call_attempt_id=planned.call_attempt_id, detail=detail[:200]))
    planned.attempt_started_at = None
    planned.updated_at = now
    if result in ANSWERED:
        _close(planned, PlannedCallState.DONE, result, now)
        if result == CallResult.HELP and planned.alarm_id is None:
            _alarm(session, planned, AlarmKind.HELP_REQUESTED, Severity.CRITICAL, now, actor,
                   call=planned.id, attempt=planned.attempts)
        return
    if result == CallResult.WRONG_NUMBER:
        # Retrying cannot reach the person: somebody must, now.
        _close(planned, PlannedCallState.MISSED, result, now)
        _missed_alarm(session, planned, now, actor, reason="wrong_number")
        return
    if planned.attempts >= settings.max_attempts:
        _close(planned, PlannedCallState.MISSED, CallResult.NO_ANSWER, now)
        _missed_alarm(session, planned, now, actor, reason="no_answer")
        return
    planned.state = PlannedCallState.PLANNED
    planned.next_attempt_at = calendar.retry_at(now, planned.attempts, settings.retry_minutes)


def help_requested(session: Session, planned: PlannedCall, now: datetime,
                   actor: Actor | None = None) -> None:
    """The person asked for help during the call (pressed 9): the alarm opens at once,
    before the call has even ended."""
    _alarm(session, planned, AlarmKind.HELP_REQUESTED, Severity.CRITICAL, now,
           actor or Actor.system(), call=planned.id, attempt=planned.attempts)


def cancel(planned: PlannedCall, now: datetime) -> None:
    planned.state = PlannedCallState.CANCELLED
    planned.next_attempt_at = None
    planned.updated_at = now


def _close(planned: PlannedCall, state: PlannedCallState, result: CallResult,
           now: datetime) -> None:
    planned.state, planned.result = state, result
    planned.completed_at = now
    planned.next_attempt_at = None


def _missed_alarm(session: Session, planned: PlannedCall, now: datetime, actor: Actor,
                  reason: str) -> None:
    if planned.kind in WATCHED_KINDS:
        _alarm(session, planned, AlarmKind.MISSED_COURTESY_CALLS, Severity.HIGH, now, actor,
               call=planned.id, attempts=planned.attempts, reason=reason,
               call_kind=planned.kind.value)


def _alarm(session: Session, planned: PlannedCall, kind: AlarmKind, severity: Severity,
           now: datetime, actor: Actor, **detail) -> None:
    alarm, _new = alarms.raise_alarm(session, enrollee_id=planned.enrollee_id, kind=kind,
                                     severity=severity, now=now, actor=actor, **detail)
    if planned.alarm_id is None:
        planned.alarm_id = alarm.id
