"""Reading what warnings and news items share: a kind from a fixed list, from when, until when."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date

from telecare.errors import N_, FieldError


def read_day(raw: Mapping, name: str, default: date | None,
             errors: list[FieldError]) -> date | None:
    """An ISO date, or `default` when left empty (required when there is none)."""
    value = raw.get(name)
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        if default is None:
            errors.append(FieldError(name, N_("is required")))
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(name, N_("%(value)s is not a date (YYYY-MM-DD)"),
                                 {"value": text}))
        return None


def read_validity(raw: Mapping, today: date,
                  errors: list[FieldError]) -> tuple[date | None, date | None]:
    """valid_from (today when empty) and valid_until (required, not past, not before the start)."""
    valid_from = read_day(raw, "valid_from", today, errors)
    valid_until = read_day(raw, "valid_until", None, errors)
    if valid_until and valid_until < today:
        errors.append(FieldError("valid_until", N_("is in the past")))
    elif valid_until and valid_from and valid_until < valid_from:
        errors.append(FieldError("valid_until", N_("is before the start")))
    return valid_from, valid_until


def read_choice(raw: Mapping, name: str, choices: type[enum.Enum],
                errors: list[FieldError]):
    """One of an enum's values, or None with the field named and the choices listed."""
    try:
        return choices(str(raw.get(name) or ""))
    except ValueError:
        errors.append(FieldError(name, N_("%(value)s is not one of %(choices)s"),
                                 {"value": raw.get(name) or "",
                                  "choices": ", ".join(c.value for c in choices)}))
        return None
