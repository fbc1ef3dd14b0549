"""The emergency step: which service the operator calls, and what to tell the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

from alerts.policy import EmergencyService, PolicyBook
from telecare.enrolment.municipalities import lookup
from telecare.models import Alarm, Enrollee


@dataclass(frozen=True)
class EmergencyScript:
    service: EmergencyService
    lines: list[tuple[str, str]]  # (what, value): read to the dispatcher in this order


def emergency_script(alarm: Alarm, enrollee: Enrollee | None,
                     book: PolicyBook) -> EmergencyScript:
    """Everything a 112 dispatcher asks, in the order they ask it. Never dialled for them."""
    service = book.service_for(alarm.kind.value)
    if enrollee is None:
        serial = alarm.device.serial if alarm.device else ""
        return EmergencyScript(service, [("device", serial)])
    floor = enrollee.address_floor or ""
    town = lookup(enrollee.municipality_istat)
    keys = [f"{c.name} {c.phone}" for c in enrollee.contacts if c.holds_key]
    lines = [
        ("name", enrollee.full_name),
        ("age", str(_age(enrollee, alarm))),
        ("address", " ".join(part for part in (
            f"{enrollee.address_street},", enrollee.address_postal_code,
            town.name if town else enrollee.municipality_istat) if part)),
        ("floor", floor),
        ("access", enrollee.access_notes),
        ("key_holders", "; ".join(keys)),
        ("lives_alone", "yes" if enrollee.lives_alone else "no"),
        ("health", enrollee.health_notes),
        ("language", enrollee.language),
        ("phone", enrollee.phones[0].number if enrollee.phones else ""),
        ("alarm", f"{alarm.kind.value} at {alarm.opened_at:%H:%M} UTC"),
    ]
    return EmergencyScript(service, [(what, value) for what, value in lines if value])


def _age(enrollee: Enrollee, alarm: Alarm) -> int:
    born, on = enrollee.birth_date, alarm.opened_at.date()
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
