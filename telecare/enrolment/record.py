"""Reading an enrollee record from loose input (CSV row, form, JSON) into checked, typed values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from telecare.enrolment import rules
from telecare.enrolment.municipalities import normalise_istat
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import CallMode, PhoneKind, Relation, Sex
from telecare.quiet import clock_time
from telecare.settings import CallsSettings, EnrolmentSettings

# The column sizes of the models; "name" is a contact's.
MAX_TEXT = {"first_name": 100, "last_name": 100, "address_street": 200, "address_floor": 40,
            "address_postal_code": 10, "name": 200}
TRUE_WORDS = {"1", "true", "yes", "y", "si", "sì", "s", "x"}
FALSE_WORDS = {"0", "false", "no", "n", ""}
# The weekly call's weekday: 0 Monday .. 6 Sunday, or its name (spreadsheets say "martedì").
WEEKDAY_NAMES = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "lunedì": 0, "martedì": 1, "mercoledì": 2, "giovedì": 3, "venerdì": 4,
    "sabato": 5, "domenica": 6, "lunedi": 0, "martedi": 1, "mercoledi": 2, "giovedi": 3,
    "venerdi": 4,
}
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class PhoneInput:
    number: str  # E.164
    kind: PhoneKind


@dataclass(frozen=True)
class ContactInput:
    name: str
    relation: Relation
    phone: str  # E.164
    can_sms: bool
    language: str
    holds_key: bool
    notes: str = ""


@dataclass(frozen=True)
class EnrolleeInput:
    first_name: str
    last_name: str
    sex: Sex
    birth_date: date
    codice_fiscale: str
    language: str
    address_street: str
    address_postal_code: str
    address_floor: str
    municipality_istat: str
    latitude: float | None
    longitude: float | None
    lives_alone: bool
    health_notes: str
    access_notes: str
    consent_date: date
    consent_note: str
    age_exception_reason: str
    phones: list[PhoneInput] = field(default_factory=list)
    contacts: list[ContactInput] = field(default_factory=list)
    # The weekly call's slot: no weekday lets the planner choose one; no window, the time.
    call_weekday: int | None = None
    call_window_start: time | None = None
    call_window_end: time | None = None
    call_mode: CallMode = CallMode.AUTOMATED


def read_enrollee(raw: Mapping, today: date, policy: EnrolmentSettings,
                  calls: CallsSettings | None = None) -> EnrolleeInput:
    """Check every field and raise ValidationFailed with all that is wrong, or return the record.

    With `calls`, the weekly call's window must also fall within the calling day."""
    errors: list[FieldError] = []
    text = _TextReader(raw, errors)

    first_name = text.required("first_name")
    last_name = text.required("last_name")
    sex = _read_choice(raw, "sex", Sex, errors, aliases={"f": "F", "m": "M"})
    birth_date = _read_date(raw, "birth_date", errors, required=True)
    codice_fiscale = rules.normalise_codice_fiscale(text.required("codice_fiscale"))
    language = text.optional("language").lower() or policy.languages[0]
    if language not in policy.languages:
        errors.append(FieldError("language", N_("%(value)s is not one of the service's languages "
                                                "(%(choices)s)"),
                                 {"value": language, "choices": ", ".join(policy.languages)}))
    address_street = text.required("address_street")
    municipality = normalise_istat(text.optional("municipality_istat"))
    errors += rules.check_municipality(municipality)
    latitude = _read_coordinate(raw, "latitude", -90, 90, errors)
    longitude = _read_coordinate(raw, "longitude", -180, 180, errors)
    if (latitude is None) != (longitude is None):
        errors.append(FieldError("latitude", N_("latitude and longitude go together")))
    consent_date = _read_date(raw, "consent_date", errors, required=True)
    if consent_date and consent_date > today:
        errors.append(FieldError("consent_date", N_("is in the future")))
    age_exception_reason = text.optional("age_exception_reason")

    if birth_date:
        errors += rules.check_age(birth_date, today, policy.minimum_age, age_exception_reason)
    if codice_fiscale:
        errors += rules.check_codice_fiscale(codice_fiscale, birth_date, sex.value if sex else None)

    phones = _read_phones(raw.get("phones") or [], policy.phone_region, errors)
    contacts = _read_contacts(raw.get("contacts") or [], policy, errors)
    lives_alone = _read_bool(raw, "lives_alone", errors)
    call_weekday = _read_weekday(raw, "call_weekday", errors)
    window_start, window_end = _read_window(raw, calls, errors)
    call_mode = _read_choice(raw, "call_mode", CallMode, errors, default=CallMode.AUTOMATED)

    if errors:
        raise ValidationFailed(errors)
    return EnrolleeInput(
        first_name=first_name, last_name=last_name, sex=sex, birth_date=birth_date,
        codice_fiscale=codice_fiscale, language=language, address_street=address_street,
        address_postal_code=text.optional("address_postal_code"),
        address_floor=text.optional("address_floor"), municipality_istat=municipality,
        latitude=latitude, longitude=longitude, lives_alone=lives_alone,
        health_notes=text.optional("health_notes"), access_notes=text.optional("access_notes"),
        consent_date=consent_date, consent_note=text.optional("consent_note"),
        age_exception_reason=age_exception_reason, phones=phones, contacts=contacts,
        call_weekday=call_weekday, call_window_start=window_start, call_window_end=window_end,
        call_mode=call_mode,
    )


class _TextReader:
    def __init__(self, raw: Mapping, errors: list[FieldError]):
        self.raw, self.errors = raw, errors

    def optional(self, name: str, field_name: str | None = None) -> str:
        value = self.raw.get(name)
        value = "" if value is None else str(value).strip()
        limit = MAX_TEXT.get(name)
        if limit and len(value) > limit:
            self.errors.append(FieldError(field_name or name, N_("is longer than %(limit)d "
                                                                 "characters"), {"limit": limit}))
        return value

    def required(self, name: str, field_name: str | None = None) -> str:
        value = self.optional(name, field_name)
        if not value:
            self.errors.append(FieldError(field_name or name, N_("is required")))
        return value


def _read_date(raw: Mapping, name: str, errors: list[FieldError], *, required: bool,
               field_name: str | None = None) -> date | None:
    value = raw.get(name)
    label = field_name or name
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            errors.append(FieldError(label, N_("is required")))
        return None
    # ISO first; Italian offices write day/month/year.
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    errors.append(FieldError(label, N_("%(value)s is not a date (use YYYY-MM-DD or DD/MM/YYYY)"),
                             {"value": text}))
    return None


def _read_bool(raw: Mapping, name: str, errors: list[FieldError],
               field_name: str | None = None) -> bool:
    value = raw.get(name)
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    errors.append(FieldError(field_name or name, N_("%(value)s is not yes or no"),
                             {"value": text}))
    return False


def _read_choice(raw: Mapping, name: str, enum_cls, errors: list[FieldError], *,
                 aliases: dict | None = None, field_name: str | None = None, default=None):
    value = raw.get(name)
    text = "" if value is None else str(value).strip()
    if not text:
        if default is not None:
            return default
        errors.append(FieldError(field_name or name, N_("is required")))
        return None
    text = (aliases or {}).get(text.lower(), text.lower() if not aliases else text)
    try:
        return enum_cls(text)
    except ValueError:
        choices = ", ".join(m.value for m in enum_cls)
        errors.append(FieldError(field_name or name, N_("%(value)s is not one of %(choices)s"),
                                 {"value": str(value).strip(), "choices": choices}))
        return None


def _read_weekday(raw: Mapping, name: str, errors: list[FieldError]) -> int | None:
    value = raw.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = "" if value is None else str(value).strip().lower()
    if not text:
        return None
    if text in WEEKDAY_NAMES:
        return WEEKDAY_NAMES[text]
    if text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    errors.append(FieldError(name, N_("%(value)s is not a weekday (0 Monday to 6 Sunday)"),
                             {"value": text}))
    return None


def _read_clock(raw: Mapping, name: str, errors: list[FieldError]) -> time | None:
    value = raw.get(name)
    if isinstance(value, time):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    match = _CLOCK.match(text)
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours < 24 and minutes < 60 and int(match.group(3) or 0) < 60:
            return time(hours, minutes)
    errors.append(FieldError(name, N_("%(value)s is not a time of day (use HH:MM)"),
                             {"value": text}))
    return None


def _read_window(raw: Mapping, calls: CallsSettings | None,
                 errors: list[FieldError]) -> tuple[time | None, time | None]:
    """The weekly call's local time window: both ends or neither, in order, in daytime."""
    found = len(errors)
    start = _read_clock(raw, "call_window_start", errors)
    end = _read_clock(raw, "call_window_end", errors)
    if len(errors) > found:
        return None, None
    if start is None and end is None:
        return None, None
    if start is None or end is None:
        missing = "call_window_start" if start is None else "call_window_end"
        errors.append(FieldError(missing, N_("give both the start and the end of the window")))
        return None, None
    if end <= start:
        errors.append(FieldError("call_window_end", N_("must be after the start (%(start)s)"),
                                 {"start": start.strftime("%H:%M")}))
    if calls is not None:
        # Nobody is called at night: a window outside the calling day could never be kept.
        day_start, day_end = clock_time(calls.day_start), clock_time(calls.day_end)
        if start < day_start:
            errors.append(FieldError("call_window_start", N_("is before the calling day starts "
                                                             "(%(time)s)"),
                                     {"time": calls.day_start}))
        if end > day_end:
            errors.append(FieldError("call_window_end", N_("is after the calling day ends "
                                                           "(%(time)s)"),
                                     {"time": calls.day_end}))
    return start, end


def _read_coordinate(raw: Mapping, name: str, low: float, high: float,
                     errors: list[FieldError]) -> float | None:
    value = raw.get(name)
    text = "" if value is None else str(value).strip().replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        errors.append(FieldError(name, N_("%(value)s is not a number"), {"value": text}))
        return None
    if not low <= number <= high:
        errors.append(FieldError(name, N_("must be between %(low)s and %(high)s"),
                                 {"low": low, "high": high}))
        return None
    return number


def _read_phones(items, region: str, errors: list[FieldError]) -> list[PhoneInput]:
    phones: list[PhoneInput] = []
    for index, item in enumerate(items, start=1):
        prefix = f"phones[{index}]"
        item_errors: list[FieldError] = []
        kind = _read_choice(item, "kind", PhoneKind, item_errors, field_name=f"{prefix}.kind")
        number, phone_errors = rules.normalise_phone(str(item.get("number") or ""), region,
                                                     f"{prefix}.number")
        item_errors += phone_errors
        errors += item_errors
        if not item_errors:
            phones.append(PhoneInput(number=number, kind=kind))
    if not items:
        errors.append(FieldError("phones", N_("at least one phone number is required")))
    seen = set()
    for phone in phones:
        if phone.number in seen:
            errors.append(FieldError("phones", N_("%(value)s is listed twice"),
                                     {"value": phone.number}))
        seen.add(phone.number)
    return phones


def _read_contacts(items, policy: EnrolmentSettings,
                   errors: list[FieldError]) -> list[ContactInput]:
    contacts: list[ContactInput] = []
    for index, item in enumerate(items, start=1):
        prefix = f"contacts[{index}]"
        item_errors: list[FieldError] = []
        text = _TextReader(item, item_errors)
        name = text.required("name", f"{prefix}.name")
        relation = _read_choice(item, "relation", Relation, item_errors,
                                field_name=f"{prefix}.relation", default=Relation.OTHER)
        phone, phone_errors = rules.normalise_phone(str(item.get("phone") or ""),
                                                    policy.phone_region, f"{prefix}.phone")
        item_errors += phone_errors
        language = text.optional("language").lower() or policy.languages[0]
        if language not in policy.languages:
            item_errors.append(FieldError(f"{prefix}.language",
                                          N_("%(value)s is not one of the service's languages"),
                                          {"value": language}))
        holds_key = _read_bool(item, "holds_key", item_errors, f"{prefix}.holds_key")
        if "can_sms" in item and str(item.get("can_sms")).strip() != "":
            can_sms = _read_bool(item, "can_sms", item_errors, f"{prefix}.can_sms")
        else:
            can_sms = phone is not None and rules.phone_can_receive_sms(phone)
        errors += item_errors
        if not item_errors:
            contacts.append(ContactInput(name=name, relation=relation, phone=phone,
                                         can_sms=can_sms, language=language,
                                         holds_key=holds_key, notes=text.optional("notes")))
    return contacts
