"""An action's refusal on the alarm page: each error under its form field, naming the field."""

from __future__ import annotations

from flask_babel import gettext as _

from telecare.errors import FieldError, ValidationFailed
from web.alarm_view import ALARM_STATES
from web.i18n import translate_error

# What the error lines call the core's fields (called at request time: the reader's language).
FIELDS = {"note": lambda: _("Note"), "outcome": lambda: _("Outcome"),
          "claimed_by": lambda: _("Claimed by"), "state": lambda: _("Alarm"),
          "phones": lambda: _("Phones")}


class Refused(Exception):
    """The console's own refusal, already in the reader's language."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def field_errors(failed: ValidationFailed, rename: dict[str, str], blank: dict[str, str]):
    """Each error under its form field, naming the field: "Note: is required"."""
    errors: dict[str, list[str]] = {}
    for error in failed.errors:
        field = rename.get(error.field, error.field)
        if "state" in error.params:  # "the alarm is already acknowledged", in words
            error = FieldError(error.field, error.template, error.params | {
                "state": str(ALARM_STATES.get(error.params["state"], error.params["state"]))})
        reason = blank.get(field) or translate_error(error)
        label = FIELDS.get(error.field)
        errors.setdefault(field, []).append(f"{label()}: {reason}" if label else reason)
    return errors
