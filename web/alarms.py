"""The operators' live alarm queue: claim, take charge, call back, note, resolve."""

from __future__ import annotations

import threading

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from alerts.actions import request_callback
from telecare import alarms as core
from telecare import audit
from telecare.enrolment import service
from telecare.errors import ValidationFailed
from telecare.models import Alarm, Role
from web import alarm_stream
from web import alarm_view as view
from web.access import actor, roles
from web.alarm_errors import Refused, field_errors
from web.db import db, now, runtime, writing
from web.enrollees import parse_page

bp = Blueprint("alarms", __name__, url_prefix="/alarms")

# Social services enrol people; the alarm queue, with its health notes, is the centre's.
CONSOLE = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
PER_PAGE = 50
NOTE_MAX = 2000


@bp.context_processor
def _labels() -> dict:
    return {"view": view}


def _alarm(alarm_id: int) -> Alarm:
    alarm = db().get(Alarm, alarm_id, options=[joinedload(Alarm.enrollee),
                                               joinedload(Alarm.device)])
    if alarm is None:
        abort(404)
    return alarm


def _list_context(selected: int | None) -> dict:
    alarms, total = view.queue(db())
    names = view.user_names(db(), (a.claimed_by_id for a in alarms))
    return {"alarms": alarms, "total": total, "names": names, "selected": selected,
            "now": now(), "marker": alarm_stream.marker(db())}


def _detail_context(alarm: Alarm, errors: dict | None = None, values: dict | None = None):
    names = view.user_names(db(), (alarm.claimed_by_id, alarm.acknowledged_by_id,
                                   alarm.resolved_by_id))
    return {"alarm": alarm, "timeline": view.timeline(db(), alarm), "names": names,
            "script": view.script(alarm), "errors": errors or {}, "values": values or {},
            "now": now(), "mine": alarm.claimed_by_id == current_user.id,
            **view.card(db(), alarm, now())}


def _page(alarm: Alarm | None = None, status: int = 200, **detail):
    context = _list_context(alarm.id if alarm else None)
    if alarm is not None:
        context |= _detail_context(alarm, **detail)
    return render_template("alarms/queue.html", **context), status


def _viewed(alarm: Alarm) -> None:
    """Opening an alarm shows the person's card: a view of health data, audited."""
    if alarm.enrollee is not None:
        service.viewed(writing(), alarm.enrollee, actor(), now())
        db().commit()


@bp.get("")
@roles(*CONSOLE)
def queue():
    return _page()


@bp.get("/list")
@roles(*CONSOLE)
def rows():
    selected = request.args.get("selected", "")
    return render_template("alarms/_list.html",
                           **_list_context(int(selected) if selected.isdigit() else None))


@bp.get("/<int:alarm_id>")
@roles(*CONSOLE)
def show(alarm_id: int):
    alarm = _alarm(alarm_id)
    _viewed(alarm)
    return _page(alarm)


@bp.get("/<int:alarm_id>/panel")
@roles(*CONSOLE)
def panel(alarm_id: int):
    alarm = _alarm(alarm_id)
    if request.args.get("refresh") != "1":  # a live refresh of what is open is no new view
        _viewed(alarm)
    return render_template("alarms/_detail.html", **_detail_context(alarm))


@bp.get("/stream")
@roles(*CONSOLE)
def stream():
    config = current_app.config
    slots = current_app.extensions.setdefault(
        "telecare.alarm_streams",
        threading.BoundedSemaphore(config.get("ALARM_STREAMS_MAX", 4)))
    body = alarm_stream.events(runtime().sessions,
                               poll_s=config.get("ALARM_STREAM_POLL_S", 1.0),
                               lifetime_s=config.get("ALARM_STREAM_SECONDS", 300),
                               gone=request.environ.get("waitress.client_disconnected")
                               or (lambda: False),
                               slots=slots)
    response = Response(body, mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _act(alarm_id: int, action: str, work, done: str, rename: dict | None = None,
         blank: dict | None = None, **audit_detail):
    """Run one action in one transaction, audit it, and come back to the alarm."""
    alarm = _alarm(alarm_id)
    try:
        result = work(alarm)
    except (ValidationFailed, Refused) as failed:
        db().rollback()
        if isinstance(failed, Refused):
            errors = {failed.field: [failed.message]}
        else:
            errors = field_errors(failed, rename or {}, blank or {})
        status = 409 if "claimed_by" in errors or "state" in errors else 422
        return _page(_alarm(alarm_id), status, errors=errors, values=request.form.to_dict())
    audit.record(db(), actor(), action, "alarm", alarm.id, now(), **audit_detail)
    db().commit()
    flash(done, "success")
    if result == "left_queue":
        return redirect(url_for(".queue"))
    return redirect(url_for(".show", alarm_id=alarm_id))


def _not_claimed_by_another(alarm: Alarm) -> None:
    if alarm.claimed_by_id not in (None, current_user.id):
        name = view.user_names(db(), [alarm.claimed_by_id]).get(alarm.claimed_by_id, "")
        raise Refused("claimed_by", _("%(name)s has claimed this alarm: ask them, or a "
                                      "supervisor, before acting on it.", name=name))


@bp.post("/<int:alarm_id>/claim")
@roles(*CONSOLE)
def claim(alarm_id: int):
    return _act(alarm_id, "claim", lambda a: core.claim(db(), a, actor(), now()),
                _("You have claimed this alarm."))


@bp.post("/<int:alarm_id>/release")
@roles(*CONSOLE)
def release(alarm_id: int):
    def work(alarm: Alarm):
        if alarm.claimed_by_id != current_user.id:
            raise Refused("claimed_by", _("You have not claimed this alarm."))
        core.release(db(), alarm, actor(), now())

    return _act(alarm_id, "release", work,
                _("You have released this alarm: another operator can take it."))


@bp.post("/<int:alarm_id>/acknowledge")
@roles(*CONSOLE)
def acknowledge(alarm_id: int):
    def work(alarm: Alarm):
        # Taking charge is claiming too: whoever takes charge is the one working on it.
        core.claim(db(), alarm, actor(), now())
        core.acknowledge(db(), alarm, actor(), "console", now())

    return _act(alarm_id, "acknowledge", work,
                _("You have taken charge: the ladder has stopped and the device is told help "
                  "is coming."))


@bp.post("/<int:alarm_id>/callback")
@roles(*CONSOLE)
def callback(alarm_id: int):
    def work(alarm: Alarm):
        _not_claimed_by_another(alarm)
        request_callback(db(), alarm, actor(), now())

    return _act(alarm_id, "callback", work,
                _("The automatic call to the person will start within seconds."))


@bp.post("/<int:alarm_id>/note")
@roles(*CONSOLE)
def note(alarm_id: int):
    text = request.form.get("note", "")[:NOTE_MAX]
    return _act(alarm_id, "note", lambda a: core.add_note(db(), a, actor(), text, now()),
                _("Note added."))


@bp.post("/<int:alarm_id>/resolve")
@roles(*CONSOLE)
def resolve(alarm_id: int):
    outcome = request.form.get("outcome", "")
    text = request.form.get("resolution", "")[:NOTE_MAX]

    def work(alarm: Alarm):
        _not_claimed_by_another(alarm)
        core.resolve(db(), alarm, actor(), outcome, text, now())
        return "left_queue"

    # The resolution's note is its own field: the page also has the plain note's form.
    return _act(alarm_id, "resolve", work, _("Alarm resolved."),
                rename={"note": "resolution"},
                blank={"outcome": _("choose one")} if not outcome else {}, outcome=outcome)


@bp.get("/resolved")
@roles(*CONSOLE)
def history():
    kind = request.args.get("kind", "")
    outcome = request.args.get("outcome", "")
    q = request.args.get("q", "").strip()[:64]
    page = parse_page(request.args.get("page"))
    query = view.history_query(kind, outcome, q)
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    alarms = db().scalars(query.options(joinedload(Alarm.enrollee))
                          .order_by(Alarm.resolved_at.desc(), Alarm.id.desc())
                          .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    names = view.user_names(db(), (a.resolved_by_id for a in alarms))
    return render_template("alarms/history.html", alarms=alarms, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), names=names, kind=kind,
                           outcome=outcome, q=q)
