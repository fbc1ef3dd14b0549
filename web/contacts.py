"""An enrollee's contacts, in the order the alarm ladder calls them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from telecare.enrolment import contacts as core
from telecare.errors import ValidationFailed
from telecare.models import Contact
from web.access import WRITERS, actor, roles
from web.db import db, now, runtime
from web.enrollee_form import contact_raw, contact_values
from web.enrollees import get_enrollee

bp = Blueprint("contacts", __name__, url_prefix="/enrollees/<int:enrollee_id>/contacts")


def _contact(enrollee_id: int, contact_id: int) -> Contact:
    contact = db().get(Contact, contact_id)
    if contact is None or contact.enrollee_id != enrollee_id:
        abort(404)
    return contact


def _back(enrollee_id: int):
    return redirect(url_for("enrollees.card", enrollee_id=enrollee_id) + "#contacts")


def _form_page(enrollee, contact, values, errors):
    by_field: dict[str, list] = {}
    for error in errors:
        by_field.setdefault(error.field, []).append(error)
    return render_template("contacts/form.html", enrollee=enrollee, contact=contact,
                           values=values, errors=by_field, error_list=errors,
                           languages=runtime().settings.enrolment.languages), \
        422 if errors else 200


@bp.route("/new", methods=["GET", "POST"])
@roles(*WRITERS)
def create(enrollee_id: int):
    enrollee = get_enrollee(enrollee_id)
    if request.method == "GET":
        values = {"relation": "neighbour", "language": enrollee.language,
                  "holds_key": False, "can_sms": False}
        return _form_page(enrollee, None, values, [])
    values = contact_values(request.form)
    try:
        data = core.read_contact(values, runtime().settings.enrolment)
        core.add_contact(db(), enrollee, data, actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        return _form_page(get_enrollee(enrollee_id), None, values, failed.errors)
    db().commit()
    flash(_("Contact added."), "success")
    return _back(enrollee_id)


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
@roles(*WRITERS)
def edit(enrollee_id: int, contact_id: int):
    contact = _contact(enrollee_id, contact_id)
    if request.method == "GET":
        return _form_page(contact.enrollee, contact, contact_raw(contact), [])
    values = contact_values(request.form)
    try:
        data = core.read_contact(values, runtime().settings.enrolment)
        core.update_contact(db(), contact, data, actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        contact = _contact(enrollee_id, contact_id)
        return _form_page(contact.enrollee, contact, values, failed.errors)
    db().commit()
    flash(_("Contact saved."), "success")
    return _back(enrollee_id)


@bp.route("/<int:contact_id>/remove", methods=["GET", "POST"])
@roles(*WRITERS)
def remove(enrollee_id: int, contact_id: int):
    contact = _contact(enrollee_id, contact_id)
    if request.method == "GET":
        return render_template("contacts/remove.html", enrollee=contact.enrollee,
                               contact=contact)
    core.remove_contact(db(), contact, actor(), now())
    db().commit()
    flash(_("Contact removed."), "success")
    return _back(enrollee_id)


@bp.post("/<int:contact_id>/move")
@roles(*WRITERS)
def move(enrollee_id: int, contact_id: int):
    contact = _contact(enrollee_id, contact_id)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    try:
        core.move_contact(db(), contact, offset, actor(), now())
    except ValidationFailed:
        db().rollback()
        flash(_("That contact cannot move further."), "error")
        return _back(enrollee_id)
    db().commit()
    return _back(enrollee_id)
