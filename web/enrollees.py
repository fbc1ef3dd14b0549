"""Social services' pages: the list, the card, enrolling, editing, suspending and ending."""

from __future__ import annotations

import phonenumbers
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from telecare.courtesy import worklist
from telecare.enrolment import service
from telecare.enrolment.municipalities import lookup
from telecare.enrolment.record import read_enrollee
from telecare.enrolment.rules import age_on
from telecare.enrolment.search import search_enrollees
from telecare.errors import FieldError, ValidationFailed
from telecare.models import Device, Enrollee, EnrolleeState
from telecare.privacy import erasure
from web import enrollee_form
from web.access import READERS, WRITERS, actor, roles
from web.db import db, now, runtime, today, writing
from web.labels import STATES, WEEKDAYS

bp = Blueprint("enrollees", __name__, url_prefix="/enrollees")

PER_PAGE = 50
# The planned calls the card lists: the next one and the last few weeks.
RECENT_CALLS = 6
# The state each button of the card asks for.
STATE_ACTIONS = {
    "suspend": EnrolleeState.SUSPENDED,
    "reactivate": EnrolleeState.ACTIVE,
    "end": EnrolleeState.ENDED,
}


def get_enrollee(enrollee_id: int) -> Enrollee:
    enrollee = db().get(Enrollee, enrollee_id)
    if enrollee is None:
        abort(404)
    return enrollee


def municipality_name(code: str) -> str:
    municipality = lookup(code)
    if municipality is None:
        return code
    return f"{municipality.name} ({municipality.province_code})"


@bp.app_template_filter("municipality")
def _municipality_filter(code: str) -> str:
    return municipality_name(code)


@bp.app_template_filter("phone")
def _phone_filter(e164: str) -> str:
    """+390226145678 -> +39 02 2614 5678: easier to read out and to dial by hand."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def parse_state(text: str | None) -> EnrolleeState | None:
    try:
        return EnrolleeState(text) if text else None
    except ValueError:
        return None


def parse_page(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 1_000_000 else 1


@bp.get("")
@roles(*READERS)
def index():
    q = request.args.get("q", "").strip()[:100]
    state = parse_state(request.args.get("state"))
    page = search_enrollees(db(), q, state, page=parse_page(request.args.get("page")),
                            per_page=PER_PAGE)
    return render_template("enrollees/index.html", page=page, q=q,
                           state=state.value if state else "", states=STATES)


@bp.get("/<int:enrollee_id>")
@roles(*READERS)
def card(enrollee_id: int):
    enrollee = get_enrollee(enrollee_id)
    service.viewed(writing(), enrollee, actor(), now())
    db().commit()
    devices = db().scalars(select(Device).where(Device.enrollee_id == enrollee.id)
                           .order_by(Device.id)).all()
    return render_template("enrollees/card.html", enrollee=enrollee, devices=devices,
                           municipality=lookup(enrollee.municipality_istat),
                           age=age_on(enrollee.birth_date, today()),
                           planned_calls=worklist.recent_calls(db(), enrollee.id, RECENT_CALLS),
                           **_retention(enrollee))


def _retention(enrollee: Enrollee) -> dict:
    """When an ended record's personal data go, and what holds them back past that day."""
    privacy = runtime().settings.privacy
    due = erasure.due_at(enrollee, privacy)
    waiting = erasure.unresolved_alarms(db(), enrollee.id) if due and due <= now() else []
    return {"erasure_due": due, "erasure_waits_for": waiting,
            "retention_days": privacy.retention_days}



def _policy():
    return runtime().settings.enrolment


@bp.route("/new", methods=["GET", "POST"])
@roles(*WRITERS)
def create():
    if request.method == "GET":
        values = enrollee_form.blank_values(_policy().languages[0])
        return _form_page(values, [], enrollee=None)
    form = enrollee_form.from_request(request.form, with_contacts=True)
    try:
        data = read_enrollee(form.raw, today(), _policy(), runtime().settings.calls)
        enrollee = service.enrol(db(), data, actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        return _form_page(form.values, enrollee_form.place_errors(failed.errors, form),
                          enrollee=None)
    db().commit()
    flash(_("%(name)s is enrolled.", name=enrollee.full_name), "success")
    return redirect(url_for(".card", enrollee_id=enrollee.id))


@bp.route("/<int:enrollee_id>/edit", methods=["GET", "POST"])
@roles(*WRITERS)
def edit(enrollee_id: int):
    enrollee = get_enrollee(enrollee_id)
    if enrollee.erased:
        flash(_("This record's personal data were erased: if the person comes back, enrol them "
                "again."), "error")
        return redirect(url_for(".card", enrollee_id=enrollee.id))
    if request.method == "GET":
        return _form_page(enrollee_form.from_enrollee(enrollee), [], enrollee=enrollee)
    form = enrollee_form.from_request(request.form, with_contacts=False,
                                      kept_contacts=enrollee.contacts)
    try:
        data = read_enrollee(form.raw, today(), _policy(), runtime().settings.calls)
        changed = service.update(db(), enrollee, data, actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        return _form_page(form.values, enrollee_form.place_errors(failed.errors, form),
                          enrollee=get_enrollee(enrollee_id))
    db().commit()
    if changed:
        flash(_("Changes saved."), "success")
    else:
        flash(_("Nothing was changed."), "info")
    return redirect(url_for(".card", enrollee_id=enrollee.id))


def _form_page(values: dict, shown: list, enrollee: Enrollee | None):
    status = 422 if shown else 200
    return render_template(
        "enrollees/form.html", values=values, shown=shown,
        errors=enrollee_form.errors_by_input(shown), enrollee=enrollee,
        languages=_policy().languages, calls=runtime().settings.calls,
        weekdays=[(str(day), name) for day, name in WEEKDAYS.items()],
        municipality=lookup(values.get("municipality_istat") or "") if values else None,
    ), status


@bp.route("/<int:enrollee_id>/<any(suspend, reactivate, end):action>", methods=["GET", "POST"])
@roles(*WRITERS)
def change_state(enrollee_id: int, action: str):
    enrollee = get_enrollee(enrollee_id)
    target = STATE_ACTIONS[action]
    if target not in service.TRANSITIONS[enrollee.state]:
        flash(_("This enrolment is %(state)s: that change is not possible.",
                state=STATES[enrollee.state.value]), "error")
        return redirect(url_for(".card", enrollee_id=enrollee.id))
    errors: list[FieldError] = []
    reason = request.form.get("reason", "").strip()[:1000]
    if request.method == "POST":
        try:
            service.change_state(db(), enrollee, target, reason, actor(), now())
        except ValidationFailed as failed:
            db().rollback()
            errors = failed.errors
            enrollee = get_enrollee(enrollee_id)
        else:
            db().commit()
            current_app.logger.info("enrollee %s: %s", enrollee.id, action)
            flash(_("The enrolment is now %(state)s.", state=STATES[target.value]), "success")
            return redirect(url_for(".card", enrollee_id=enrollee.id))
    return render_template("enrollees/state.html", enrollee=enrollee, action=action,
                           reason=reason, errors=errors), 422 if errors else 200
