"""Devices for operators and social services: who is online, battery, last test, history."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from telecare.models import Device, DeviceEvent, DeviceState, Enrollee
from web.access import READERS, roles
from web.db import db
from web.enrollees import parse_page

bp = Blueprint("devices", __name__, url_prefix="/devices")

PER_PAGE = 50
LOW_BATTERY = 20
FILTERS = {
    "offline": _l("Offline"),
    "online": _l("Online"),
    "low_battery": _l("Low battery"),
    "never_seen": _l("Never seen"),
    "untested": _l("Never tested"),
}
EVENT_TYPES = {
    "alarm": _l("Button pressed"), "fall": _l("Fall detected"), "test": _l("Test press"),
    "battery": _l("Battery level"), "power": _l("Mains power"), "offline": _l("Went offline"),
    "online": _l("Back online"),
}


@bp.get("")
@roles(*READERS)
def index():
    q = request.args.get("q", "").strip()[:64]
    shown = request.args.get("show", "")
    shown = shown if shown in FILTERS else ""
    page = parse_page(request.args.get("page"))
    query = select(Device).where(Device.state != DeviceState.RETIRED)
    if q:
        query = query.outerjoin(Enrollee, Enrollee.id == Device.enrollee_id).where(or_(
            Device.serial.startswith(q, autoescape=True),
            func.lower(Enrollee.last_name).startswith(q.lower(), autoescape=True)))
    query = {
        "offline": query.where(Device.offline_since.is_not(None)),
        "online": query.where(Device.offline_since.is_(None), Device.last_seen_at.is_not(None)),
        "low_battery": query.where(Device.battery <= LOW_BATTERY),
        "never_seen": query.where(Device.last_seen_at.is_(None)),
        "untested": query.where(Device.last_test_at.is_(None)),
    }.get(shown, query)
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    # Offline devices first, longest silent first: they are the ones to phone about.
    devices = db().scalars(
        query.options(joinedload(Device.enrollee))
        .order_by(Device.offline_since.is_(None), Device.offline_since, Device.serial)
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("devices/index.html", devices=devices, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), q=q, show=shown,
                           filters=FILTERS, low_battery=LOW_BATTERY)


@bp.get("/<int:device_id>")
@roles(*READERS)
def history(device_id: int):
    device = db().get(Device, device_id, options=[joinedload(Device.enrollee)])
    if device is None:
        abort(404)
    page = parse_page(request.args.get("page"))
    query = select(DeviceEvent).where(DeviceEvent.device_id == device.id)
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    events = db().scalars(query.order_by(DeviceEvent.received_at.desc(), DeviceEvent.id.desc())
                          .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("devices/history.html", device=device, events=events, total=total,
                           page=page, pages=max(1, -(-total // PER_PAGE)),
                           event_types=EVENT_TYPES, low_battery=LOW_BATTERY)
