from __future__ import annotations

from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.enrolment.search import search_enrollees
from telecare.models import EnrolleeState
from tests.conftest import NOW
from tests.factories import enrollee_data


def _enrol(session, settings, **overrides):
    data = read_enrollee(enrollee_data(**overrides), NOW.date(), settings.enrolment)
    return service.enrol(session, data, Actor("test"), NOW)


def test_it_finds_by_name_codice_fiscale_and_municipality(session, settings):
    milan = _enrol(session, settings, first_name="Maria", last_name="Rossi")
    # Seven letters that could start a code ("ESPOSIT") are still a name.
    naples = _enrol(session, settings, first_name="Rosa", last_name="Esposito",
                    municipality_istat="063049", address_postal_code="80100")
    monza = _enrol(session, settings, first_name="Ugo", last_name="Neri",
                   municipality_istat="108033", address_postal_code="20900")
    session.flush()
    assert [e.id for e in search_enrollees(session, "rossi mar").items] == [milan.id]
    assert [e.id for e in search_enrollees(session, milan.codice_fiscale[:9]).items] == [milan.id]
    assert [e.id for e in search_enrollees(session, "monza").items] == [monza.id]
    assert [e.id for e in search_enrollees(session, "esposito").items] == [naples.id]
    assert [e.id for e in search_enrollees(session, "108033").items] == [monza.id]
    assert [e.id for e in search_enrollees(session, municipality="Milano").items] == [milan.id]


def test_it_filters_by_state_and_pages_in_order(session, settings):
    people = [_enrol(session, settings, first_name="Ada", last_name=f"Zeta{i}") for i in range(5)]
    session.flush()
    service.change_state(session, people[0], EnrolleeState.SUSPENDED, "in ospedale",
                         Actor("test"), NOW)
    session.flush()
    page = search_enrollees(session, "ada", page=2, per_page=2)
    assert (page.total, page.pages, [e.last_name for e in page.items]) == \
        (5, 3, ["Zeta2", "Zeta3"])
    suspended = search_enrollees(session, "ada", state=EnrolleeState.SUSPENDED)
    assert [e.id for e in suspended.items] == [people[0].id]
