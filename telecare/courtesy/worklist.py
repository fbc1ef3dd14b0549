"""The operator's worklist: the operator-mode planned calls due now, and who has which open.

An operator opens a call (it is theirs until they log its outcome or give it back), reads the
script, and logs what came of it. Opening is a claim: one conditional UPDATE on the row's
state, so two operators clicking at once never ring the same person twice. The outcome
follows the same retry and alarm rules as the automated call (telecare.courtesy.attempts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from telecare import audit
from telecare.actor import Actor
from telecare.courtesy import attempts
from telecare.courtesy.calendar import CallCalendar
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import (
    CallKind,
    CallMode,
    CallResult,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    Role,
    User,
)
from telecare.settings import CallsSettings

# What an operator can say of a call they made; help and "put through" belong to the
# automated call (an operator who hears a request for help raises the alarm themselves).
CONSOLE_RESULTS = (CallResult.WELL, CallResult.CONCERN, CallResult.NO_ANSWER,
                   CallResult.WRONG_NUMBER)
# Who may log or give back a call somebody else opened (an operator gone home, a crash).
OVERSEERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
NOTE_MAX = 2000
# open_next tries this many due calls before saying another operator took them all.
CLAIM_TRIES = 10


@dataclass(frozen=True)
class CallNote:
    """A note from a past attempt, for the card: what was said, by whom, when."""

    at: datetime
    who: str  # the operator's name; empty for the automated call
    kind: CallKind
    attempt: int
    result: CallResult
    note: str


def _operator_calls():
    return select(PlannedCall).where(PlannedCall.mode == CallMode.OPERATOR)


def _due(now: datetime):
    return (PlannedCall.mode == CallMode.OPERATOR, PlannedCall.state == PlannedCallState.PLANNED,
            PlannedCall.next_attempt_at <= now)


def due_now(session: Session, now: datetime, limit: int) -> list[PlannedCall]:
    """The calls open on an operator's screen (who has what), then those due, oldest first."""
    opened = session.scalars(
        _operator_calls().where(PlannedCall.state == PlannedCallState.CALLING,
                                PlannedCall.operator_id.is_not(None))
        .options(joinedload(PlannedCall.enrollee))
        .order_by(PlannedCall.attempt_started_at, PlannedCall.id).limit(limit)).all()
    due = session.scalars(
        select(PlannedCall).where(*_due(now)).options(joinedload(PlannedCall.enrollee))
        .order_by(PlannedCall.next_attempt_at, PlannedCall.id).limit(limit)).all()
    return list(opened) + list(due)


def count_due(session: Session, now: datetime) -> int:
    """How many operator calls wait to be opened (the page may show only the first ones)."""
    return session.scalar(select(func.count()).select_from(PlannedCall).where(*_due(now)))


def open_call(session: Session, planned_id: int, actor: Actor, now: datetime) -> PlannedCall:
    """Claim one due call for this operator and begin its attempt.

    Opening a call one already has open is no new attempt: the page was reloaded."""
    if not _claim(session, planned_id, actor, now):
        planned = session.get(PlannedCall, planned_id, populate_existing=True)
        if _is_open_by(planned, actor):
            return planned
        raise ValidationFailed([_why_not_open(session, planned, planned_id)])
    return _begin(session, planned_id, actor, now)


def open_next(session: Session, actor: Actor, now: datetime) -> PlannedCall:
    """The operator's call already open, or the oldest due call, claimed."""
    mine = session.scalars(
        _operator_calls().where(PlannedCall.state == PlannedCallState.CALLING,
                                PlannedCall.operator_id == actor.user_id)
        .order_by(PlannedCall.attempt_started_at, PlannedCall.id).limit(1)).first()
    if mine is not None:
        return mine
    for _ in range(CLAIM_TRIES):
        # SKIP LOCKED (PostgreSQL): a row another operator is claiming right now is passed
        # over, not waited for. The conditional UPDATE is what guarantees one winner.
        candidate = session.scalar(
            select(PlannedCall.id).where(*_due(now))
            .order_by(PlannedCall.next_attempt_at, PlannedCall.id).limit(1)
            .with_for_update(skip_locked=True))
        if candidate is None:
            break
        if _claim(session, candidate, actor, now):
            return _begin(session, candidate, actor, now)
    raise ValidationFailed([FieldError("call", N_("no call is due now"))])


def log_outcome(session: Session, planned_id: int, actor: Actor, result: CallResult | str,
                note: str, settings: CallsSettings, calendar: CallCalendar,
                now: datetime) -> PlannedCall:
    """Log what the open call came to; then the call closes, is retried, or raises an alarm."""
    planned = _locked(session, planned_id)
    errors: list[FieldError] = []
    chosen = _read_result(result, errors)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors.append(FieldError("note", N_("is longer than %(limit)d characters"),
                                 {"limit": NOTE_MAX}))
    elif chosen == CallResult.CONCERN and not note:
        errors.append(FieldError("note", N_("say what the concern is, for social services")))
    errors += _may_act(session, planned, actor, N_("%(name)s has this call open: only they or "
                                                   "a supervisor can log its outcome"))
    if errors:
        raise ValidationFailed(errors)
    attempt = planned.attempts
    attempts.finish(session, planned, chosen, settings, calendar, now, note=note, actor=actor)
    # The result, not the note: notes may hold health details the audit log must not copy.
    audit.record(session, actor, "log_call", "planned_call", planned.id, now,
                 result=chosen.value, attempt=attempt, state=planned.state.value)
    return planned


def release(session: Session, planned_id: int, actor: Actor, now: datetime) -> PlannedCall:
    """Give an open call back to the worklist, due at once, without counting an attempt."""
    planned = _locked(session, planned_id)
    errors = _may_act(session, planned, actor, N_("%(name)s has this call open: only they or "
                                                  "a supervisor can give it back"))
    if errors:
        raise ValidationFailed(errors)
    planned.state = PlannedCallState.PLANNED
    planned.attempts = max(0, planned.attempts - 1)
    planned.next_attempt_at = now
    planned.attempt_started_at = None
    planned.operator_id = None
    planned.updated_at = now
    audit.record(session, actor, "release_call", "planned_call", planned.id, now)
    return planned


def last_notes(session: Session, enrollee_id: int, limit: int) -> list[CallNote]:
    """The newest notes written on this person's planned calls, with who wrote them."""
    rows = session.execute(
        select(PlannedCallLog, PlannedCall.kind, User.display_name, User.username)
        .join(PlannedCall, PlannedCall.id == PlannedCallLog.planned_call_id)
        .outerjoin(User, User.id == PlannedCallLog.user_id)
        .where(PlannedCall.enrollee_id == enrollee_id, PlannedCallLog.note != "")
        .order_by(PlannedCallLog.at.desc(), PlannedCallLog.id.desc()).limit(limit)).all()
    return [CallNote(at=log.at, who=display_name or username or "", kind=kind,
                     attempt=log.attempt, result=log.result, note=log.note)
            for log, kind, display_name, username in rows]


def recent_calls(session: Session, enrollee_id: int, limit: int) -> list[PlannedCall]:
    """This person's latest planned calls, the next one included, each with its attempts."""
    return list(session.scalars(
        select(PlannedCall).where(PlannedCall.enrollee_id == enrollee_id)
        .options(selectinload(PlannedCall.log))
        .order_by(PlannedCall.planned_at.desc(), PlannedCall.id.desc()).limit(limit)))


def user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return (user.display_name or user.username) if user else ""


# Claiming ---------------------------------------------------------------------------------


def _claim(session: Session, planned_id: int, actor: Actor, now: datetime) -> bool:
    # One statement that only succeeds on a due, unopened call: of two operators opening
    # the same call at once, one changes the row and the other finds it changed.
    won = session.execute(
        update(PlannedCall).where(PlannedCall.id == planned_id, *_due(now))
        .values(state=PlannedCallState.CALLING, operator_id=actor.user_id, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    return won == 1


def _begin(session: Session, planned_id: int, actor: Actor, now: datetime) -> PlannedCall:
    planned = session.get(PlannedCall, planned_id, populate_existing=True)
    attempts.start(planned, now, operator_id=actor.user_id)
    audit.record(session, actor, "open_call", "planned_call", planned.id, now,
                 attempt=planned.attempts)
    return planned


def _is_open_by(planned: PlannedCall | None, actor: Actor) -> bool:
    return (planned is not None and planned.state == PlannedCallState.CALLING
            and planned.operator_id is not None and planned.operator_id == actor.user_id)


def _why_not_open(session: Session, planned: PlannedCall | None, planned_id: int) -> FieldError:
    if planned is None:
        return FieldError("call", N_("there is no planned call %(id)d"), {"id": planned_id})
    if planned.mode != CallMode.OPERATOR:
        return FieldError("call", N_("this call is made by the automated system, not from "
                                     "the worklist"))
    if planned.state == PlannedCallState.CALLING:
        if planned.operator_id is None:
            return FieldError("call", N_("the automated call is ringing this person now"))
        return FieldError("operator", N_("%(name)s has already opened this call"),
                          {"name": user_name(session, planned.operator_id)})
    if planned.state == PlannedCallState.PLANNED:
        return FieldError("call", N_("this call is not due yet"))
    return _closed(planned)


def _closed(planned: PlannedCall) -> FieldError:
    if planned.state == PlannedCallState.DONE:
        return FieldError("state", N_("this call has already been answered"))
    if planned.state == PlannedCallState.MISSED:
        return FieldError("state", N_("this call is closed: nobody answered it"))
    return FieldError("state", N_("this call was cancelled"))


# Logging and giving back -------------------------------------------------------------------


def _locked(session: Session, planned_id: int) -> PlannedCall:
    """The row, locked until the commit (PostgreSQL), so an outcome and a release, or two
    outcomes, never both apply; SQLite's writer lock does the same there."""
    planned = session.get(PlannedCall, planned_id, with_for_update=True,
                          populate_existing=True)
    if planned is None:
        raise ValidationFailed([FieldError("call", N_("there is no planned call %(id)d"),
                                           {"id": planned_id})])
    return planned


def _may_act(session: Session, planned: PlannedCall, actor: Actor,
             someone_elses: str) -> list[FieldError]:
    """Nothing, or why this actor cannot log or give back this call."""
    if planned.state == PlannedCallState.PLANNED:
        return [FieldError("state", N_("open the call first"))]
    if planned.state != PlannedCallState.CALLING:
        return [_closed(planned)]
    if planned.operator_id is None:
        return [FieldError("call", N_("this call is made by the automated system, not from "
                                      "the worklist"))]
    if planned.operator_id == actor.user_id:
        return []
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is not None and user.role in OVERSEERS:
        return []
    return [FieldError("operator", someone_elses,
                       {"name": user_name(session, planned.operator_id)})]


def _read_result(value: CallResult | str, errors: list[FieldError]) -> CallResult | None:
    text = str(getattr(value, "value", value) or "").strip()
    if not text:
        errors.append(FieldError("result", N_("choose what came of the call")))
        return None
    if text not in {r.value for r in CONSOLE_RESULTS}:
        errors.append(FieldError("result", N_("%(value)s is not one of %(choices)s"),
                                 {"value": text,
                                  "choices": ", ".join(r.value for r in CONSOLE_RESULTS)}))
        return None
    return CallResult(text)
