"""Fake enrollees of the Città metropolitana di Milano, and the importer's test file."""

from __future__ import annotations

import io
from collections import Counter

import phonenumbers
from sqlalchemy import select

from telecare.actor import Actor
from telecare.enrolment.importer import import_enrollees
from telecare.enrolment.municipalities import by_province
from telecare.enrolment.rules import age_on, birthplace_known, check_codice_fiscale
from telecare.enrolment.seed import (
    BIRTHPLACES_ELSEWHERE,
    MOBILE_PREFIXES,
    PersonFactory,
    make_import_file,
    places_mi,
    seed_enrollees,
)
from telecare.models import AuditEntry, Enrollee, PhoneKind, Relation
from tests.conftest import NOW

ACTOR = Actor("cli:test")
TODAY = NOW.date()


def test_it_seeds_valid_people_in_the_province_of_milan(session_factory, session, settings):
    report = seed_enrollees(session_factory, 40, ACTOR, NOW, settings.enrolment, seed=1,
                            contacts=3, batch_size=15)

    people = session.scalars(select(Enrollee)).all()
    assert (report.enrollees, len(people)) == (40, 40)
    assert report.contacts == 120
    assert report.phones == sum(len(p.phones) for p in people)
    milan_area = {m.istat for m in by_province("MI")}
    for person in people:
        assert check_codice_fiscale(person.codice_fiscale, person.birth_date,
                                    person.sex.value) == []
        assert person.municipality_istat in milan_area
        age = age_on(person.birth_date, TODAY)
        assert 80 <= age <= 101 or (70 <= age < 80 and person.age_exception_reason)
        assert person.phones
        for phone in person.phones:
            number = phonenumbers.parse(phone.number)
            assert phonenumbers.is_valid_number(number), phone.number
            assert phonenumbers.region_code_for_number(number) == "IT"
        assert [c.relation for c in person.contacts][2] == Relation.DOCTOR
        assert person.contacts[0].holds_key
        for contact in person.contacts:
            assert phonenumbers.is_valid_number(phonenumbers.parse(contact.phone))
    assert len({p.codice_fiscale for p in people}) == 40
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "seed")).one()
    assert entry.detail == {"enrollees": 40, "seed": 1}


def test_it_gives_the_same_people_for_the_same_seed(session_factory, settings):
    first = [p.codice_fiscale for p in PersonFactory(9, TODAY, settings.enrolment).people(20)]
    again = [p.codice_fiscale for p in PersonFactory(9, TODAY, settings.enrolment).people(20)]
    other = [p.codice_fiscale for p in PersonFactory(10, TODAY, settings.enrolment).people(20)]

    assert first == again
    assert first != other


def test_it_never_seeds_a_codice_fiscale_already_enrolled(session_factory, session, settings):
    seed_enrollees(session_factory, 25, ACTOR, NOW, settings.enrolment, seed=4)
    seed_enrollees(session_factory, 25, ACTOR, NOW, settings.enrolment, seed=4)

    codes = session.scalars(select(Enrollee.codice_fiscale)).all()
    assert len(codes) == len(set(codes)) == 50


def test_it_spreads_people_by_population_with_realistic_traits(settings):
    people = list(PersonFactory(2, TODAY, settings.enrolment).people(3000))

    where = Counter(p.municipality_istat for p in people)
    milan = next(p for p in places_mi() if p.istat == "015146")
    share = milan.population / sum(p.population for p in places_mi())  # about 41%
    assert abs(where["015146"] / 3000 - share) < 0.04
    assert 0.55 < sum(p.lives_alone for p in people) / 3000 < 0.65
    assert sum(p.language == "it" for p in people) / 3000 > 0.9
    kinds = Counter(phone.kind for p in people for phone in p.phones)
    assert kinds[PhoneKind.LANDLINE] > kinds[PhoneKind.MOBILE] > 0


def test_it_knows_the_133_municipalities_and_every_birthplace_it_uses():
    assert len(places_mi()) == 133
    assert all(birthplace_known(code) for code in BIRTHPLACES_ELSEWHERE)
    assert all(birthplace_known(p.cadastral_code) for p in places_mi())
    for prefix in MOBILE_PREFIXES:
        for number in (f"+39{prefix}0000000", f"+39{prefix}9999999"):
            assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_it_imports_a_generated_file_and_reports_exactly_its_broken_rows(session_factory,
                                                                         session, settings):
    made = make_import_file(60, 2, TODAY, settings.enrolment, seed=5, delimiter=";")

    report = import_enrollees(session_factory, io.StringIO(made.text), ACTOR, NOW,
                              settings.enrolment)
    again = import_enrollees(session_factory, io.StringIO(made.text), ACTOR, NOW,
                             settings.enrolment)

    assert len(made.broken) == 10
    assert Counter(made.broken.values()) == {"codice_fiscale": 4, "landline": 2,
                                             "municipality_istat": 2, "birth_date": 2}
    assert {e.row: e.field for e in report.errors} == made.broken
    assert len(report.errors) == 10
    assert (report.rows, report.imported, report.unchanged) == (60, 50, 0)
    assert (again.imported, again.unchanged, again.rejected) == (0, 50, 10)
    assert len(session.scalars(select(Enrollee)).all()) == 50
