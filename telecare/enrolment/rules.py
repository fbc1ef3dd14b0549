"""Enrolment rules as plain functions of data and today's date. Each returns the errors it finds."""

from __future__ import annotations

from datetime import date
from functools import cache

import phonenumbers
from codicefiscale import codicefiscale as cf_library
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale as cf_stdnum

from telecare.enrolment.municipalities import lookup as lookup_municipality
from telecare.errors import N_, FieldError


def age_on(birth_date: date, today: date) -> int:
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def check_age(
    birth_date: date, today: date, minimum_age: int, exception_reason: str
) -> list[FieldError]:
    """Old enough, or a social worker's written reason for the exception."""
    if birth_date > today:
        return [FieldError("birth_date", N_("is in the future"))]
    age = age_on(birth_date, today)
    if age > 120:
        return [FieldError("birth_date", N_("gives an age of %(age)d, over 120"), {"age": age})]
    if age < minimum_age and not exception_reason.strip():
        return [
            FieldError(
                "birth_date",
                N_("under the minimum age of %(minimum)d (is %(age)d): "
                   "give the reason for the exception in age_exception_reason"),
                {"minimum": minimum_age, "age": age},
            )
        ]
    return []


def normalise_codice_fiscale(raw: str) -> str:
    return cf_stdnum.compact(raw)


def check_codice_fiscale(code: str, birth_date: date | None, sex: str | None) -> list[FieldError]:
    """Well formed, a correct check letter, a known birthplace, agreeing with the record."""
    field = "codice_fiscale"
    if len(code) != 16:
        return [FieldError(field, N_("must be 16 characters (the temporary 11-digit code "
                                     "is not accepted)"))]
    try:
        cf_stdnum.validate(code)
    except StdnumError as exc:
        why = str(exc.message).lower().rstrip(".")
        return [FieldError(field, N_("is not valid: %(why)s"), {"why": why})]
    errors = []
    if birth_date is not None:
        # The code keeps two digits of the year: read them in the century around the record's.
        encoded = cf_stdnum.get_birth_date(code, minyear=birth_date.year - 50)
        if encoded != birth_date:
            errors.append(FieldError(
                field, N_("gives birth date %(encoded)s, the record says %(recorded)s"),
                {"encoded": encoded.isoformat(), "recorded": birth_date.isoformat()},
            ))
    if sex is not None and cf_stdnum.get_gender(code) != sex:
        errors.append(FieldError(
            field, N_("gives sex %(encoded)s, the record says %(recorded)s"),
            {"encoded": cf_stdnum.get_gender(code), "recorded": sex},
        ))
    if not birthplace_known(_birthplace_code(code)):
        errors.append(FieldError(
            field, N_("birthplace code %(code)s is not a known municipality or country"),
            {"code": code[11:15]},
        ))
    return errors


_OMOCODE_DIGITS = str.maketrans("LMNPQRSTUV", "0123456789")


def _birthplace_code(code: str) -> str:
    # Omocodia replaces digits with letters to tell two people with the same code apart.
    return code[11] + code[12:15].translate(_OMOCODE_DIGITS)


@cache
def birthplace_known(birthplace_code: str) -> bool:
    """Checked against python-codicefiscale's list, which knows municipalities long since merged."""
    try:
        cf_library.encode_birthplace(birthplace_code)
    except ValueError:
        return False
    return True


def normalise_phone(raw: str, region: str, field: str) -> tuple[str | None, list[FieldError]]:
    """A phone number valid for its region, in E.164, or the reason it is not."""
    text = raw.strip()
    if not text:
        return None, [FieldError(field, N_("is required"))]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, [FieldError(field, N_("%(value)s is not a phone number"), {"value": text})]
    if not phonenumbers.is_valid_number(number):
        return None, [FieldError(
            field, N_("%(value)s is not a valid number for its region"), {"value": text}
        )]
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), []


def phone_can_receive_sms(e164: str) -> bool:
    number = phonenumbers.parse(e164)
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def check_municipality(code: str) -> list[FieldError]:
    if not code.strip():
        return [FieldError("municipality_istat", N_("is required"))]
    if lookup_municipality(code) is None:
        return [FieldError(
            "municipality_istat", N_("%(value)s is not in the ISTAT list of municipalities"),
            {"value": code},
        )]
    return []
