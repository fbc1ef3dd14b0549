"""What the screens call fields and values, in the reader's language."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

FIELDS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "sex": _l("Sex"),
    "birth_date": _l("Date of birth"),
    "codice_fiscale": _l("Codice fiscale"),
    "language": _l("Language"),
    "address_street": _l("Street and number"),
    "address_postal_code": _l("Postal code"),
    "address_floor": _l("Floor, flat, staircase"),
    "municipality_istat": _l("Municipality (ISTAT code)"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "lives_alone": _l("Lives alone"),
    "health_notes": _l("Health notes"),
    "access_notes": _l("Access to the home"),
    "consent_date": _l("Consent signed on"),
    "consent_note": _l("Consent note"),
    "age_exception_reason": _l("Reason for the age exception"),
    "phones": _l("Phones"),
    "number": _l("Number"),
    "kind": _l("Type"),
    "contacts": _l("Contacts"),
    "name": _l("Name"),
    "relation": _l("Relation"),
    "phone": _l("Phone"),
    "can_sms": _l("Can receive SMS"),
    "holds_key": _l("Holds a key"),
    "notes": _l("Notes"),
    "reason": _l("Reason"),
    "state": _l("State"),
    "position": _l("Position"),
    "username": _l("Username"),
    "display_name": _l("Full name"),
    "role": _l("Role"),
    "password": _l("Password"),
}

STATES = {"active": _l("active"), "suspended": _l("suspended"), "ended": _l("ended")}
ROLES = {"operator": _l("operator"), "supervisor": _l("supervisor"),
         "social_worker": _l("social worker"), "admin": _l("administrator")}
RELATIONS = {"neighbour": _l("neighbour"), "friend": _l("friend"), "family": _l("family"),
             "doctor": _l("doctor"), "other": _l("other")}
PHONE_KINDS = {"landline": _l("landline"), "mobile": _l("mobile")}
DEVICE_KINDS = {"pendant": _l("alarm pendant"), "fall_detector": _l("fall detector"),
                "base_unit": _l("base unit")}
ALARM_KINDS = {
    "button": _l("Button pressed"), "fall": _l("Fall detected"),
    "help_requested": _l("Asked for help on a call"),
    "missed_courtesy_calls": _l("Weekly call unanswered"),
    "heat_check_unanswered": _l("Heat check unanswered"),
    "device_offline": _l("Device offline"), "low_battery": _l("Low battery"),
    "power_loss": _l("Mains power lost"),
    "service_stalled": _l("Service part stalled"),
}
SEXES = {"F": _l("female"), "M": _l("male")}
LANGUAGES = {"it": "Italiano", "en": "English", "fr": "Français", "de": "Deutsch",
             "es": "Español", "ro": "Română", "ar": "العربية", "zh": "中文"}
ACTIONS = {
    "create": _l("created"), "update": _l("edited"), "view": _l("viewed"), "list": _l("listed"),
    "suspend": _l("suspended"), "reactivate": _l("reactivated"), "end": _l("ended"),
    "add_contact": _l("contact added"), "update_contact": _l("contact edited"),
    "remove_contact": _l("contact removed"), "move_contact": _l("contact moved"),
    "import": _l("import"), "login": _l("signed in"), "login_failed": _l("sign-in refused"),
    "logout": _l("signed out"), "disable": _l("disabled"), "enable": _l("enabled"),
    "claim": _l("alarm claimed"), "release": _l("alarm released"),
    "acknowledge": _l("took charge of an alarm"), "callback": _l("call-back requested"),
    "note": _l("note added"), "resolve": _l("alarm resolved"),
}

_INDEXED = re.compile(r"^(phones|contacts)\[(\d+)\]\.(\w+)$")


def field_label(field: str) -> str:
    """A field as the reader knows it: `contacts[2].phone` reads "Contacts 2: Phone"."""
    match = _INDEXED.match(field)
    if match:
        group, index, name = match.groups()
        return f"{FIELDS[group]} {index}: {FIELDS.get(name, name)}"
    label = FIELDS.get(field)
    return str(label) if label is not None else field


def label(mapping: dict, value) -> str:
    key = getattr(value, "value", value)
    found = mapping.get(key)
    return str(found) if found is not None else str(key or "")


def languages_named(codes: list[str]) -> list[tuple[str, str]]:
    """(code, name in the reader's language) pairs for a language menu."""
    return [(code, LANGUAGES.get(code, code)) for code in codes]


# Planned calls: the weekly call, its slot on the enrollee's form, the operator's worklist.
FIELDS.update({
    "call_weekday": _l("Weekday of the weekly call"),
    "call_window_start": _l("Call window: from"),
    "call_window_end": _l("Call window: to"),
    "call_mode": _l("How the weekly call is made"),
    "result": _l("Outcome"),
    "note": _l("Note"),
    "call": _l("Call"),
    "operator": _l("Operator"),
})
WEEKDAYS = {0: _l("Monday"), 1: _l("Tuesday"), 2: _l("Wednesday"), 3: _l("Thursday"),
            4: _l("Friday"), 5: _l("Saturday"), 6: _l("Sunday")}
CALL_MODES = {"automated": _l("automated call"), "operator": _l("an operator calls")}
CALL_KINDS = {"courtesy": _l("Weekly call"), "reassurance": _l("Reassurance call"),
              "birthday": _l("Birthday call")}
CALL_STATES = {"planned": _l("planned"), "calling": _l("in progress"), "done": _l("done"),
               "missed": _l("missed"), "cancelled": _l("cancelled")}
CALL_RESULTS = {
    "well": _l("Answered and well"), "concern": _l("Answered, with a concern"),
    "help_requested": _l("Asked for help"), "operator": _l("Put through to an operator"),
    "no_answer": _l("No answer"), "wrong_number": _l("Wrong number"),
    "failed": _l("Could not be placed"),
}
ACTIONS.update({"open_call": _l("opened a weekly call"),
                "log_call": _l("logged a call's outcome"),
                "release_call": _l("gave a call back")})
