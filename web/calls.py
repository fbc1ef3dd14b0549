"""The operators' weekly-call worklist: the calls due now, open one, read, log the outcome."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from telecare.courtesy import device_checks, worklist
from telecare.courtesy.calendar import CallCalendar
from telecare.enrolment import service
from telecare.enrolment.municipalities import lookup
from telecare.enrolment.rules import age_on
from telecare.errors import ValidationFailed
from telecare.models import CallMode, Device, DeviceState, PlannedCall, PlannedCallState, Role
from web import call_script
from web.access import actor, roles
from web.alarm_view import user_names
from web.db import db, now, runtime, today, writing
from web.i18n import translate_error
from web.labels import CALL_RESULTS, label

bp = Blueprint("calls", __name__, url_prefix="/calls")

# The centre's console: health notes and phone numbers are on these pages.
CONSOLE = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
OVERSEERS = (Role.SUPERVISOR, Role.ADMIN)
# A worklist longer than this is a backlog, not a shift: the page says how many more wait.
WORKLIST_LIMIT = 200
NOTES_SHOWN = 5
# Refusals about who holds the call, or its state, are conflicts; the rest are bad input.
CONFLICTS = frozenset({"operator", "state", "call"})


def _planned(call_id: int) -> PlannedCall:
    planned = db().get(PlannedCall, call_id, options=[joinedload(PlannedCall.enrollee)])
    if planned is None:
        abort(404)
    return planned


def _status(errors: list) -> int:
    return 409 if any(e.field in CONFLICTS for e in errors) else 422


@bp.get("")
@roles(*CONSOLE)
def index():
    rows = worklist.due_now(db(), now(), WORKLIST_LIMIT)
    waiting = worklist.count_due(db(), now())
    shown = sum(1 for row in rows if row.state == PlannedCallState.PLANNED)
    return render_template("calls/worklist.html", rows=rows, waiting=waiting,
                           more=waiting - shown,
                           names=user_names(db(), (r.operator_id for r in rows)),
                           mine=any(r.operator_id == current_user.id
                                    and r.state == PlannedCallState.CALLING for r in rows),
                           max_attempts=runtime().settings.calls.max_attempts, today=today(),
                           checks=device_checks.flagged(db(), now()))


@bp.post("/next")
@roles(*CONSOLE)
def open_next():
    try:
        planned = worklist.open_next(db(), actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        for error in failed.errors:
            flash(translate_error(error), "info")
        return redirect(url_for(".index"))
    db().commit()
    return redirect(url_for(".show", call_id=planned.id))


@bp.get("/<int:call_id>")
@roles(*CONSOLE)
def show(call_id: int):
    planned = _planned(call_id)
    # The page is the person's card: a view of health data, audited like the card itself.
    service.viewed(writing(), planned.enrollee, actor(), now())
    db().commit()
    return _page(planned)


@bp.post("/<int:call_id>/open")
@roles(*CONSOLE)
def open_call(call_id: int):
    _planned(call_id)
    try:
        planned = worklist.open_call(db(), call_id, actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        return _page(_planned(call_id), failed.errors, status=_status(failed.errors))
    db().commit()
    return redirect(url_for(".show", call_id=planned.id))


@bp.post("/<int:call_id>/outcome")
@roles(*CONSOLE)
def outcome(call_id: int):
    _planned(call_id)
    settings = runtime().settings
    values = {"result": request.form.get("result", ""), "note": request.form.get("note", "")}
    try:
        planned = worklist.log_outcome(db(), call_id, actor(), values["result"], values["note"],
                                       settings.calls, CallCalendar.from_settings(settings),
                                       now())
    except ValidationFailed as failed:
        db().rollback()
        return _page(_planned(call_id), failed.errors, values, status=_status(failed.errors))
    db().commit()
    flash(_logged(planned), "success")
    return redirect(url_for(".show", call_id=planned.id))


@bp.post("/<int:call_id>/release")
@roles(*CONSOLE)
def release(call_id: int):
    _planned(call_id)
    try:
        worklist.release(db(), call_id, actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        return _page(_planned(call_id), failed.errors, status=_status(failed.errors))
    db().commit()
    flash(_("The call is back on the worklist: another operator can open it."), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:call_id>/button-checked")
@roles(*CONSOLE)
def button_checked(call_id: int):
    _planned(call_id)
    try:
        device_checks.mark_checked(db(), call_id, actor(), request.form.get("note", ""), now())
    except ValidationFailed as failed:
        db().rollback()
        for error in failed.errors:
            flash(translate_error(error), "error")
        return redirect(url_for(".index", _anchor="device-checks"))
    db().commit()
    flash(_("Button check closed; your note is on the call's log."), "success")
    return redirect(url_for(".index", _anchor="device-checks"))


def when(moment) -> str:
    """A due time in the service's zone, as a phrase: "at 11:30", or "on 29/11 at 09:00"
    when a retry moved to the next calling day."""
    if moment.astimezone(runtime().settings.zone).date() == today():
        return _("at %(time)s", time=format_datetime(moment, "HH:mm"))
    return _("on %(day)s at %(time)s", day=format_datetime(moment, "dd/MM/yyyy"),
             time=format_datetime(moment, "HH:mm"))


def _logged(planned: PlannedCall) -> str:
    if planned.state == PlannedCallState.PLANNED:
        return _("No answer logged. Attempt %(n)d of %(max)d is due %(when)s.",
                 n=planned.attempts + 1, max=runtime().settings.calls.max_attempts,
                 when=when(planned.next_attempt_at))
    if planned.state == PlannedCallState.MISSED and planned.alarm_id:
        return _("Outcome logged. The call is closed and an alarm was opened, so that "
                 "someone checks on the person.")
    if planned.state == PlannedCallState.MISSED:
        return _("Outcome logged. The call is closed.")
    return _("Outcome logged: %(result)s.", result=label(CALL_RESULTS, planned.result))


def _page(planned: PlannedCall, errors: list | None = None, values: dict | None = None,
          status: int = 200):
    enrollee = planned.enrollee
    opened_by = planned.operator_id if planned.state == PlannedCallState.CALLING else None
    can_act = bool(opened_by) and (opened_by == current_user.id
                                   or current_user.role in OVERSEERS)
    names = user_names(db(), [opened_by])
    script = None
    if can_act:
        news = call_script.news_lines(db(), enrollee, today())
        script = call_script.script_for(planned, names.get(opened_by, ""), news)
    devices = db().scalars(select(Device).where(Device.enrollee_id == enrollee.id,
                                                Device.state != DeviceState.RETIRED)
                           .order_by(Device.id)).all()
    shown = {}
    for error in errors or []:
        shown.setdefault(error.field, []).append(error)
    context = {
        "planned": planned, "enrollee": enrollee, "script": script, "can_act": can_act,
        "opened_by": opened_by, "mine": opened_by == current_user.id, "names": names,
        "can_open": planned.state == PlannedCallState.PLANNED
        and planned.mode == CallMode.OPERATOR and planned.next_attempt_at is not None
        and planned.next_attempt_at <= now(),
        "devices": devices, "notes": worklist.last_notes(db(), enrollee.id, NOTES_SHOWN),
        "municipality": lookup(enrollee.municipality_istat),
        "age": age_on(enrollee.birth_date, today()),
        "max_attempts": runtime().settings.calls.max_attempts, "when": when,
        "errors": shown, "values": values or {},
    }
    return render_template("calls/call.html", **context), status
