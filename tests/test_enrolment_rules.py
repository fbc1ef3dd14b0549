from datetime import date

import pytest

from telecare.enrolment import rules
from telecare.enrolment.municipalities import lookup


def test_it_computes_age_on_the_day_before_and_after_the_birthday():
    assert rules.age_on(date(1946, 11, 28), date(2026, 11, 27)) == 79
    assert rules.age_on(date(1946, 11, 28), date(2026, 11, 28)) == 80


def test_it_refuses_someone_under_the_minimum_age_without_a_reason():
    errors = rules.check_age(date(1950, 1, 1), date(2026, 11, 28), 80, "")
    assert [(e.field, e.reason) for e in errors] == [(
        "birth_date",
        "under the minimum age of 80 (is 76): give the reason for the exception in "
        "age_exception_reason",
    )]


def test_it_accepts_someone_under_the_minimum_age_with_a_justified_exception():
    assert rules.check_age(date(1950, 1, 1), date(2026, 11, 28), 80,
                           "Dipendenza documentata (invalidità 100%)") == []


def test_it_refuses_a_birth_date_in_the_future():
    assert rules.check_age(date(2030, 1, 1), date(2026, 11, 28), 80, "")[0].reason == \
        "is in the future"


def test_it_accepts_a_codice_fiscale_that_agrees_with_the_record():
    assert rules.check_codice_fiscale("RSSMRA40C45F205I", date(1940, 3, 5), "F") == []


def test_it_reads_a_codice_fiscale_of_someone_born_before_1920():
    # Two digits of the year: "18" must read as 1918 for a person born then, not 2018.
    from codicefiscale import codicefiscale

    code = codicefiscale.encode(lastname="Bianchi", firstname="Ada", gender="F",
                                birthdate="1918-06-02", birthplace="F205")
    assert rules.check_codice_fiscale(code, date(1918, 6, 2), "F") == []


def test_it_names_the_disagreements_between_codice_fiscale_and_record():
    errors = rules.check_codice_fiscale("RSSMRA40C45F205I", date(1941, 3, 5), "M")
    assert [e.reason for e in errors] == [
        "gives birth date 1940-03-05, the record says 1941-03-05",
        "gives sex F, the record says M",
    ]


def test_it_refuses_a_wrong_check_letter():
    errors = rules.check_codice_fiscale("RSSMRA40C45F205X", date(1940, 3, 5), "F")
    assert errors[0].field == "codice_fiscale"
    assert errors[0].reason.startswith("is not valid")


def test_it_refuses_an_unknown_birthplace():
    from stdnum.it import codicefiscale as cf

    body = "RSSMRA40C45Q999"
    code = body + cf.calc_check_digit(body)
    errors = rules.check_codice_fiscale(code, date(1940, 3, 5), "F")
    assert [e.reason for e in errors] == [
        "birthplace code Q999 is not a known municipality or country"
    ]


def test_it_knows_historical_birthplaces_and_foreign_countries():
    assert rules.birthplace_known("Z404")  # born in the United States
    assert rules.birthplace_known("F205")  # Milano


@pytest.mark.parametrize(("raw", "expected"), [
    ("02 2614 5678", "+390226145678"),
    ("+39 333 123 4567", "+393331234567"),
    ("0039 06 1234 5678", "+390612345678"),
])
def test_it_writes_valid_phones_in_e164(raw, expected):
    assert rules.normalise_phone(raw, "IT", "phone") == (expected, [])


@pytest.mark.parametrize("raw", ["123", "02 12", "not a phone"])
def test_it_refuses_invalid_phones(raw):
    number, errors = rules.normalise_phone(raw, "IT", "phones[1].number")
    assert number is None
    assert errors[0].field == "phones[1].number"


def test_it_tells_mobiles_from_landlines_for_sms():
    assert rules.phone_can_receive_sms("+393331234567")
    assert not rules.phone_can_receive_sms("+390226145678")


def test_it_finds_municipalities_in_the_istat_list_even_without_leading_zeros():
    assert lookup("15146").name == "Milano"
    assert lookup("015032").name == "Bresso"
    assert rules.check_municipality("015146") == []
    assert rules.check_municipality("999999")[0].reason == \
        "999999 is not in the ISTAT list of municipalities"
