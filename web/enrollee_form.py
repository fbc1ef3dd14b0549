"""The enrollee form as the browser sends it, turned into the core's raw record and back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from telecare.enrolment.search import municipality_codes
from telecare.errors import FieldError
from telecare.models import Contact, Enrollee
from web.labels import field_label

SCALARS = [
    "first_name", "last_name", "sex", "birth_date", "codice_fiscale", "language",
    "address_street", "address_postal_code", "address_floor", "municipality_istat",
    "latitude", "longitude", "health_notes", "access_notes", "consent_date", "consent_note",
    "age_exception_reason",
    # The weekly call's slot.
    "call_weekday", "call_window_start", "call_window_end", "call_mode",
]
PHONE_ROWS = 3
NEW_CONTACT_ROWS = 2
CONTACT_FIELDS = ["name", "relation", "phone", "language", "notes"]
_INDEXED = re.compile(r"^(phones|contacts)\[(\d+)\]\.(\w+)$")


@dataclass
class EnrolleeForm:
    """What the user typed (to show it again) and the raw record the core reads."""

    values: dict
    raw: dict
    # The form row of each phone / contact the record holds, in order.
    phone_rows: list[int] = field(default_factory=list)
    contact_rows: list[int] = field(default_factory=list)


def from_request(form: Mapping, *, with_contacts: bool,
                 kept_contacts: list[Contact] | None = None) -> EnrolleeForm:
    values = {name: form.get(name, "").strip() for name in SCALARS}
    values["lives_alone"] = bool(form.get("lives_alone"))
    raw = dict(values)
    raw["lives_alone"] = values["lives_alone"]
    codes = municipality_codes(values["municipality_istat"])
    if not values["municipality_istat"].isdigit() and len(codes) == 1:
        # "Milano" is as good as 015146 when only one municipality has that name.
        raw["municipality_istat"] = codes[0]

    values["phones"], raw["phones"], phone_rows = [], [], []
    for row in range(PHONE_ROWS):
        phone = {"number": form.get(f"phones-{row}-number", "").strip(),
                 "kind": form.get(f"phones-{row}-kind", "")}
        values["phones"].append(phone)
        if phone["number"]:
            raw["phones"].append(phone)
            phone_rows.append(row)

    contact_rows: list[int] = []
    if with_contacts:
        values["contacts"], raw["contacts"] = [], []
        for row in range(NEW_CONTACT_ROWS):
            contact = contact_values(form, prefix=f"contacts-{row}-")
            values["contacts"].append(contact)
            if contact["name"] or contact["phone"]:
                raw["contacts"].append(contact)
                contact_rows.append(row)
    else:
        raw["contacts"] = [contact_raw(c) for c in kept_contacts or []]
    return EnrolleeForm(values, raw, phone_rows, contact_rows)


def contact_values(form: Mapping, prefix: str = "") -> dict:
    contact = {name: form.get(prefix + name, "").strip() for name in CONTACT_FIELDS}
    contact["holds_key"] = bool(form.get(prefix + "holds_key"))
    # Unticked means "no"; the core guesses from the number only when told nothing.
    contact["can_sms"] = bool(form.get(prefix + "can_sms"))
    return contact


def contact_raw(contact: Contact) -> dict:
    return {"name": contact.name, "relation": contact.relation.value, "phone": contact.phone,
            "can_sms": contact.can_sms, "language": contact.language,
            "holds_key": contact.holds_key, "notes": contact.notes}


def from_enrollee(enrollee: Enrollee) -> dict:
    values = {}
    for name in SCALARS:
        value = getattr(enrollee, name)
        value = getattr(value, "value", value)
        if isinstance(value, time):
            value = value.strftime("%H:%M")  # as <input type="time"> shows it, no seconds
        values[name] = "" if value is None else value.isoformat() \
            if hasattr(value, "isoformat") else str(value)
    values["lives_alone"] = enrollee.lives_alone
    phones = [{"number": p.number, "kind": p.kind.value} for p in enrollee.phones]
    values["phones"] = (phones + [{"number": "", "kind": ""}] * PHONE_ROWS)[:PHONE_ROWS]
    return values


def blank_values(default_language: str) -> dict:
    values = {name: "" for name in SCALARS}
    values.update(language=default_language, lives_alone=False, call_mode="automated",
                  phones=[{"number": "", "kind": ""} for _ in range(PHONE_ROWS)],
                  contacts=[{"holds_key": False, "can_sms": False}
                            for _ in range(NEW_CONTACT_ROWS)])
    return values


@dataclass(frozen=True)
class ShownError:
    input: str  # the form input it belongs to, also the anchor of the summary's link
    label: str
    error: FieldError


def place_errors(errors: list[FieldError], form: EnrolleeForm) -> list[ShownError]:
    """Each core error beside the input the user typed it in."""
    shown = []
    for error in errors:
        match = _INDEXED.match(error.field)
        if match:
            group, index, name = match.groups()
            rows = form.phone_rows if group == "phones" else form.contact_rows
            position = int(index) - 1
            if position < len(rows):
                row = rows[position]
                shown.append(ShownError(f"{group}-{row}-{name}",
                                        field_label(f"{group}[{row + 1}].{name}"), error))
                continue
        shown.append(ShownError(error.field.replace("[", "-").replace("]", "")
                                .replace(".", "-"), field_label(error.field), error))
    return shown


def errors_by_input(shown: list[ShownError]) -> dict[str, list[FieldError]]:
    by_input: dict[str, list[FieldError]] = {}
    for item in shown:
        by_input.setdefault(item.input, []).append(item.error)
    return by_input
