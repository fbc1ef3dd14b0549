"""A person's alarm devices on their card: give one (by its serial), take one back."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from telecare.enrolment import devices as core
from telecare.errors import ValidationFailed
from telecare.models import Device
from web.access import WRITERS, actor, roles
from web.db import db, now
from web.enrollees import get_enrollee
from web.i18n import translate_error

bp = Blueprint("enrollee_devices", __name__, url_prefix="/enrollees/<int:enrollee_id>/devices")


def _back(enrollee_id: int):
    return redirect(url_for("enrollees.card", enrollee_id=enrollee_id) + "#devices")


@bp.post("")
@roles(*WRITERS)
def assign(enrollee_id: int):
    enrollee = get_enrollee(enrollee_id)
    try:
        device = core.assign(db(), enrollee, request.form.get("serial", ""), actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        for error in failed.errors:
            flash(translate_error(error), "error")
        return _back(enrollee_id)
    db().commit()
    flash(_("Device %(serial)s given: its alarms now reach the operators with this card.",
            serial=device.serial), "success")
    return _back(enrollee_id)


@bp.post("/<int:device_id>/take-back")
@roles(*WRITERS)
def take_back(enrollee_id: int, device_id: int):
    device = db().get(Device, device_id)
    if device is None or device.enrollee_id != enrollee_id:
        abort(404)
    retire = request.form.get("retire") == "yes"
    core.take_back(db(), device, actor(), now(), retire=retire)
    db().commit()
    flash(_("Device %(serial)s retired.", serial=device.serial) if retire else
          _("Device %(serial)s back in stock.", serial=device.serial), "success")
    return _back(enrollee_id)
