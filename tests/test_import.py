"""`import_enrollees`: a social-services CSV file in, good rows stored, every bad row reported."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date
from pathlib import Path

import pytest
from codicefiscale import codicefiscale
from sqlalchemy import func, select

from telecare.actor import Actor
from telecare.enrolment import importer
from telecare.enrolment.importer import RowError, import_enrollees, report_csv
from telecare.enrolment.record import read_enrollee
from telecare.enrolment.service import enrol
from telecare.models import AuditEntry, Contact, Enrollee, EnrolleePhone, PhoneKind, Relation
from tests.conftest import NOW

ACTOR = Actor("assistente.sociale")
HEADER = ["first_name", "last_name", "sex", "birth_date", "codice_fiscale", "language",
          "address_street", "address_postal_code", "municipality_istat", "lives_alone",
          "health_notes", "consent_date", "age_exception_reason", "landline", "mobile",
          "contact_1_name", "contact_1_relation", "contact_1_phone", "contact_1_holds_key",
          "contact_2_name", "contact_2_relation", "contact_2_phone"]
_people = itertools.cycle([("Maria", "Rossi", "F"), ("Giuseppe", "Bianchi", "M"),
                           ("Anna", "Colombo", "F"), ("Carlo", "Brambilla", "M")])
_day = itertools.count(1)


def person(**overrides) -> dict:
    """One valid row of an import file; each call gives another person."""
    first, last, sex = next(_people)
    born = overrides.pop("born", date(1940, 1, 1).replace(day=next(_day) % 28 + 1))
    row = {
        "first_name": first, "last_name": last, "sex": sex, "birth_date": born.isoformat(),
        "codice_fiscale": codicefiscale.encode(lastname=last, firstname=first, gender=sex,
                                               birthdate=born.isoformat(), birthplace="F205"),
        "language": "it", "address_street": "Via Padova 10", "address_postal_code": "20127",
        "municipality_istat": "015146", "lives_alone": "si", "health_notes": "Ipertensione",
        "consent_date": "2026-11-01", "age_exception_reason": "", "landline": "02 2614 5678",
        "mobile": "", "contact_1_name": "Anna Verdi", "contact_1_relation": "neighbour",
        "contact_1_phone": "333 123 4567", "contact_1_holds_key": "yes",
        "contact_2_name": "", "contact_2_relation": "", "contact_2_phone": "",
    }
    row.update(overrides)
    return row


def csv_text(rows: list[dict], header=HEADER, delimiter=",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run_import(session_factory, settings, text: str, **kwargs):
    return import_enrollees(session_factory, io.StringIO(text), ACTOR, NOW, settings.enrolment,
                            **kwargs)


def stored(session) -> dict[str, Enrollee]:
    return {e.codice_fiscale: e for e in session.scalars(select(Enrollee))}


def test_it_imports_the_good_rows_and_reports_every_bad_field(session_factory, session,
                                                               settings):
    good = person()
    wrong_code = person()
    wrong_code["codice_fiscale"] = wrong_code["codice_fiscale"][:15] + (
        "A" if wrong_code["codice_fiscale"][15] != "A" else "B")
    rows = [
        good,                                                    # row 2
        wrong_code,                                              # row 3
        person(landline="02 12"),                                # row 4
        person(municipality_istat="999999"),                     # row 5
        person(born=date(1956, 3, 3)),                           # row 6: 70, no reason given
        dict(good, first_name="Maria Luisa"),                    # row 7: same code as row 2
        person(sex="X", consent_date="2027-01-01", contact_2_name="Paolo",
               contact_2_phone="12"),                            # row 8: three bad fields
        person(born=date(1950, 5, 5), age_exception_reason="Demenza precoce, vive sola",
               mobile="+39 347 765 4321", landline="",
               health_notes="Diabete;\nnon vedente"),            # row 9: good, two-line note
    ]
    report = run_import(session_factory, settings, csv_text(rows), file_name="marzo.csv")

    assert report.rows == 8
    assert report.imported == 2
    assert report.unchanged == 0
    assert report.rejected == 6
    assert [(e.row, e.field) for e in report.errors] == [
        (3, "codice_fiscale"),
        (4, "landline"),
        (5, "municipality_istat"),
        (6, "birth_date"),
        (7, "codice_fiscale"),
        (8, "sex"), (8, "consent_date"), (8, "contact_2_phone"),
    ]
    reasons = {(e.row, e.field): e.reason for e in report.errors}
    assert reasons[(4, "landline")] == "02 12 is not a valid number for its region"
    assert reasons[(5, "municipality_istat")] == "999999 is not in the ISTAT list of municipalities"
    assert "under the minimum age of 80 (is 70)" in reasons[(6, "birth_date")]
    assert reasons[(7, "codice_fiscale")] == "repeats the codice fiscale of row 2"
    assert reasons[(8, "consent_date")] == "is in the future"

    people = stored(session)
    assert set(people) == {good["codice_fiscale"], rows[7]["codice_fiscale"]}
    maria = people[good["codice_fiscale"]]
    assert (maria.first_name, maria.lives_alone, maria.municipality_istat) == (
        "Maria", True, "015146")
    assert [(p.number, p.kind) for p in maria.phones] == [("+390226145678", PhoneKind.LANDLINE)]
    assert [(c.name, c.relation, c.phone, c.holds_key, c.can_sms) for c in maria.contacts] == [
        ("Anna Verdi", Relation.NEIGHBOUR, "+393331234567", True, True)]
    late = people[rows[7]["codice_fiscale"]]
    assert late.age_exception_reason == "Demenza precoce, vive sola"
    assert late.health_notes == "Diabete;\nnon vedente"
    assert [p.kind for p in late.phones] == [PhoneKind.MOBILE]

    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()
    assert [(e.entity_type, e.detail) for e in entries] == [("enrollee", {
        "file": "marzo.csv", "rows": 8, "imported": 2, "unchanged": 0, "rejected": 6})]


def test_it_imports_nothing_new_when_run_again(session_factory, session, settings):
    text = csv_text([person(), person(), person(landline="")])

    first = run_import(session_factory, settings, text)
    second = run_import(session_factory, settings, text)

    assert (first.imported, first.unchanged, first.rejected) == (2, 0, 1)
    assert (second.imported, second.unchanged, second.rejected) == (0, 2, 1)
    assert second.errors == [RowError(4, "landline", "at least one phone number is required")]
    assert session.scalar(select(func.count()).select_from(Enrollee)) == 2
    assert session.scalar(select(func.count()).select_from(EnrolleePhone)) == 2
    assert session.scalar(select(func.count()).select_from(Contact)) == 2


def test_it_refuses_someone_else_under_an_enrolled_codice_fiscale(session_factory, session,
                                                                  settings):
    row = person()
    first = run_import(session_factory, settings, csv_text([row]))
    record_id = stored(session)[row["codice_fiscale"]].id

    report = run_import(session_factory, settings,
                        csv_text([dict(row, first_name="Mariangela")]))

    assert first.imported == 1
    assert report.imported == report.unchanged == 0
    assert report.errors == [RowError(2, "codice_fiscale",
                                      f"this person is already enrolled (record {record_id})")]


def test_it_reads_semicolons_a_byte_order_mark_and_italian_dates(session_factory, session,
                                                                  settings):
    row = person(birth_date="07/03/1941", born=date(1941, 3, 7), consent_date="01/10/2026",
                 municipality_istat="15146")
    text = "\ufeff" + csv_text([row], delimiter=";")

    report = run_import(session_factory, settings, text)

    assert (report.imported, report.errors) == (1, [])
    enrollee = stored(session)[row["codice_fiscale"]]
    assert (enrollee.birth_date, enrollee.consent_date, enrollee.municipality_istat) == (
        date(1941, 3, 7), date(2026, 10, 1), "015146")


def test_it_refuses_a_bad_header_before_reading_any_row(session_factory, session, settings):
    header = [c for c in HEADER if c not in ("birth_date", "landline", "mobile")] + ["telefono"]
    text = csv_text([{k: v for k, v in person().items() if k in header}], header=header)

    report = run_import(session_factory, settings, text)

    assert report.refused
    assert (report.rows, report.imported) == (0, 0)
    assert report.errors == [
        RowError(1, "telefono", "is not a known column (see docs/import-format.md)"),
        RowError(1, "birth_date", "is a required column and is missing"),
        RowError(1, "landline", "the file needs a landline or a mobile column (or both)"),
    ]
    assert stored(session) == {}


def test_it_refuses_a_file_that_is_not_utf8(session_factory, settings):
    latin1 = csv_text([person(last_name="Nicolò")]).encode("latin-1")
    stream = io.TextIOWrapper(io.BytesIO(latin1), encoding="utf-8")

    report = import_enrollees(session_factory, stream, ACTOR, NOW, settings.enrolment)

    assert report.refused
    assert [(e.row, e.field) for e in report.errors] == [(0, "file")]
    assert "not UTF-8" in report.errors[0].reason


def test_it_falls_back_to_one_row_at_a_time_when_a_batch_hits_a_constraint(
        session_factory, session, settings, monkeypatch):
    taken, other = person(), person()
    with session_factory() as setup:
        existing = enrol(setup, read_enrollee(
            dict(taken, phones=[{"number": taken["landline"], "kind": "landline"}]),
            NOW.date(), settings.enrolment), ACTOR, NOW)
        setup.commit()
        existing_id = existing.id
    # As if another social worker enrolled the person between the look-up and the insert.
    lookups = iter([{}])
    real = importer.current_enrolments
    monkeypatch.setattr(importer, "current_enrolments",
                        lambda s, codes: next(lookups, None) or real(s, codes))

    report = run_import(session_factory, settings,
                        csv_text([dict(taken, first_name="Marisa"), other]))

    assert report.imported == 1
    assert report.errors == [RowError(2, "codice_fiscale",
                                      f"this person is already enrolled (record {existing_id})")]
    assert set(stored(session)) == {taken["codice_fiscale"], other["codice_fiscale"]}


def test_it_commits_in_batches_and_reports_progress(session_factory, session, settings):
    done = []
    rows = [person(born=date(1930, 1, 1).replace(month=m, day=d))
            for m in range(1, 4) for d in range(1, 5)]

    report = run_import(session_factory, settings, csv_text(rows), progress=done.append,
                        batch_size=5)

    assert done == [5, 5, 2]
    assert report.imported == 12
    assert len(stored(session)) == 12


def test_it_writes_the_errors_as_csv():
    report = importer.ImportReport(rows=3, errors=[
        RowError(2, "landline", "02 12 is not a valid number for its region"),
        RowError(3, "sex", "X is not one of F, M")])

    assert report_csv(report) == (
        "row,field,reason\n"
        "2,landline,02 12 is not a valid number for its region\n"
        '3,sex,"X is not one of F, M"\n')


@pytest.mark.parametrize("header", [[], ["first_name"]])
def test_it_reports_an_empty_file(session_factory, settings, header):
    text = ",".join(header)

    report = run_import(session_factory, settings, text)

    assert report.refused
    assert report.errors[0].row in (0, 1)


def test_it_imports_the_sample_file_of_the_documentation(session_factory, session, settings):
    docs = Path(__file__).resolve().parents[1] / "docs" / "import-format.md"
    sample = docs.read_text(encoding="utf-8").split("```csv\n", 1)[1].split("```", 1)[0]

    report = run_import(session_factory, settings, sample)
    semicolons = run_import(session_factory, settings, sample.replace(",", ";"))

    assert (report.rows, report.imported, report.errors) == (2, 2, [])
    assert (semicolons.rows, semicolons.unchanged, semicolons.errors) == (2, 2, [])
    maria = stored(session)["RSSMRA41C47F205N"]
    assert maria.access_notes == "Citofono Rossi, chiave dalla vicina"
    assert [c.name for c in maria.contacts] == ["Anna Verdi", "Paolo Rossi"]


def test_it_reads_header_names_with_capitals_and_spaces(session_factory, session, settings):
    header = [" ".join(name.split("_")).capitalize() for name in HEADER]
    text = csv_text([person()], header=HEADER).replace(",".join(HEADER), ",".join(header), 1)

    report = run_import(session_factory, settings, text)

    assert header[0] == "First name"
    assert (report.imported, report.errors) == (1, [])
