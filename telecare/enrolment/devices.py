"""Handing a person their alarm device, and taking it back.

A device is provisioned in stock (`telecare devices provision`: its row and its broker
password); a social worker then gives it to a person, and from then on its presses reach
the operators with the person's card, contacts and ladder. Taken back, it returns to stock
(ready for someone else) or is retired (broken, lost).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecare import audit
from telecare.actor import Actor
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import Device, DeviceState, Enrollee, EnrolleeState


def assign(session: Session, enrollee: Enrollee, serial: str, actor: Actor,
           now: datetime) -> Device:
    """Give the provisioned device `serial` to this person."""
    serial = serial.strip()
    device = session.scalars(select(Device).where(Device.serial == serial)
                             .with_for_update()).first() if serial else None
    errors = []
    if enrollee.state != EnrolleeState.ACTIVE or enrollee.erased_at is not None:
        errors.append(FieldError("enrollee", N_("only an active enrolment can be given a "
                                                "device")))
    if not serial:
        errors.append(FieldError("serial", N_("is required")))
    elif device is None:
        errors.append(FieldError("serial", N_("%(value)s is not a provisioned device"),
                                 {"value": serial[:64]}))
    elif device.state == DeviceState.RETIRED:
        errors.append(FieldError("serial", N_("%(value)s is retired"), {"value": serial}))
    elif device.enrollee_id not in (None, enrollee.id):
        errors.append(FieldError("serial", N_("%(value)s is with record %(id)d: take it back "
                                              "there first"),
                                 {"value": serial, "id": device.enrollee_id}))
    if errors:
        raise ValidationFailed(errors)
    device.enrollee_id, device.state = enrollee.id, DeviceState.ACTIVE
    audit.record(session, actor, "device_assigned", "device", device.id, now,
                 enrollee=enrollee.id)
    return device


def take_back(session: Session, device: Device, actor: Actor, now: datetime, *,
              retire: bool = False) -> Device:
    """The device leaves the person: back to stock, or retired for good."""
    enrollee_id = device.enrollee_id
    device.enrollee_id = None
    device.state = DeviceState.RETIRED if retire else DeviceState.IN_STOCK
    # Nobody to watch over any more: the watchdog forgets it until it is given again.
    device.offline_after = device.offline_since = None
    audit.record(session, actor, "device_retired" if retire else "device_returned", "device",
                 device.id, now, enrollee=enrollee_id)
    return device
