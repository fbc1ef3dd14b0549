"""Each enrollee's weekly-call slot: weekday, time window, mode, on the form, card and import."""

from __future__ import annotations

import csv
import io
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from telecare.actor import Actor
from telecare.enrolment.importer import as_csv_row, import_enrollees
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import (
    CallKind,
    CallMode,
    CallResult,
    Enrollee,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    Role,
)
from telecare.settings import CallsSettings
from tests.conftest import NOW
from tests.factories import enrollee_data
from tests.web.test_enrollees import enrol, form_data

SLOT = {"call_weekday": "1", "call_window_start": "10:00", "call_window_end": "11:30",
        "call_mode": "operator"}


def stored(session, record: dict) -> Enrollee:
    session.expire_all()
    return session.scalars(select(Enrollee).where(
        Enrollee.codice_fiscale == record["codice_fiscale"])).one()


def test_the_form_offers_the_slot_with_the_planners_choice_first(client, login):
    login(Role.SOCIAL_WORKER)
    page = client.get("/enrollees/new").get_data(as_text=True)
    assert '<select id="call_weekday" name="call_weekday"' in page
    assert '<option value="">Lo sceglie il pianificatore</option>' in page
    assert '<option value="6">Domenica</option>' in page
    assert 'type="time" id="call_window_start"' in page
    assert '<option value="automated" selected>chiamata automatica</option>' in page
    assert "tra le 09:00 e le 20:00" in page


def test_it_enrols_with_a_slot_and_shows_it_on_the_card(client, login, session):
    login(Role.SOCIAL_WORKER)
    record = enrollee_data(**SLOT)
    response = client.post("/enrollees/new", data=form_data(record))
    assert response.status_code == 302
    person = stored(session, record)
    assert (person.call_weekday, person.call_window_start, person.call_window_end,
            person.call_mode) == (1, time(10, 0), time(11, 30), CallMode.OPERATOR)
    card = client.get(f"/enrollees/{person.id}").get_data(as_text=True)
    slot = card.split('id="weekly-call"', 1)[1].split("</section>", 1)[0]
    assert "Martedì" in slot and "dalle 10:00 alle 11:30" in slot
    assert "chiama un operatore" in slot


def test_it_edits_the_slot_and_lets_the_planner_choose_again(client, login, session, settings):
    person = enrol(session, settings, **SLOT)
    login(Role.SOCIAL_WORKER)
    page = client.get(f"/enrollees/{person.id}/edit").get_data(as_text=True)
    assert '<option value="1" selected>Martedì</option>' in page
    assert 'value="10:00"' in page and 'value="11:30"' in page  # no seconds
    record = enrollee_data(first_name=person.first_name, last_name=person.last_name,
                           sex=person.sex.value, codice_fiscale=person.codice_fiscale,
                           birth_date_value=person.birth_date, contacts=[],
                           call_weekday="", call_window_start="", call_window_end="",
                           call_mode="automated")
    response = client.post(f"/enrollees/{person.id}/edit", data=form_data(record))
    assert response.status_code == 302
    person = stored(session, record)
    assert (person.call_weekday, person.call_window_start, person.call_window_end,
            person.call_mode) == (None, None, None, CallMode.AUTOMATED)
    card = client.get(f"/enrollees/{person.id}").get_data(as_text=True)
    assert "scelto dal pianificatore" in card


@pytest.mark.parametrize(("slot", "field", "message"), [
    ({"call_window_start": "11:00", "call_window_end": "10:30"}, "call_window_end",
     "deve essere dopo l&#39;inizio (11:00)"),
    ({"call_window_start": "08:00", "call_window_end": "09:30"}, "call_window_start",
     "è prima dell&#39;inizio della giornata di chiamate (09:00)"),
    ({"call_window_start": "19:00", "call_window_end": "21:00"}, "call_window_end",
     "è dopo la fine della giornata di chiamate (20:00)"),
    ({"call_window_start": "10:00"}, "call_window_end",
     "indicare sia l&#39;inizio sia la fine della fascia oraria"),
    ({"call_window_start": "25:00", "call_window_end": "11:00"}, "call_window_start",
     "25:00 non è un orario (usare HH:MM)"),
    ({"call_weekday": "7"}, "call_weekday", "7 non è un giorno della settimana"),
    ({"call_mode": "robot"}, "call_mode", "robot non è tra i valori ammessi"),
])
def test_it_names_the_field_of_a_bad_slot_and_enrols_nobody(client, login, session, slot,
                                                            field, message):
    login(Role.SOCIAL_WORKER)
    record = enrollee_data(**slot)
    response = client.post("/enrollees/new", data=form_data(record))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page and f'href="#{field}"' in page
    assert message in page
    assert session.scalar(select(Enrollee).where(
        Enrollee.codice_fiscale == record["codice_fiscale"])) is None


def test_the_core_reads_weekday_names_and_checks_the_day_only_when_told_it(settings):
    raw = enrollee_data(call_weekday="martedì", call_window_start="7:30",
                        call_window_end="08:15:00", call_mode="Operator")
    data = read_enrollee(raw, NOW.date(), settings.enrolment)  # no calling day given
    assert (data.call_weekday, data.call_window_start, data.call_window_end,
            data.call_mode) == (1, time(7, 30), time(8, 15), CallMode.OPERATOR)
    with pytest.raises(ValidationFailed) as failed:
        read_enrollee(raw, NOW.date(), settings.enrolment, CallsSettings(day_start="08:00"))
    assert [e.field for e in failed.value.errors] == ["call_window_start"]


def test_the_import_reads_the_optional_slot_columns(session_factory, session, settings):
    with_slot = enrollee_data(call_weekday="4", call_window_start="15:00",
                              call_window_end="16:00", call_mode="operator")
    without = enrollee_data()
    bad = enrollee_data()
    rows = [as_csv_row(read_enrollee(record, NOW.date(), settings.enrolment))
            for record in (with_slot, without, bad)]
    rows[2].update(call_weekday="venerdi", call_window_start="16:00", call_window_end="15:00")
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    report = import_enrollees(session_factory, io.StringIO(out.getvalue()), Actor("giulia"),
                              NOW, settings.enrolment)
    assert (report.imported, [(e.row, e.field) for e in report.errors]) == \
        (2, [(4, "call_window_end")])
    first = stored(session, with_slot)
    assert (first.call_weekday, first.call_window_start, first.call_window_end,
            first.call_mode) == (4, time(15, 0), time(16, 0), CallMode.OPERATOR)
    second = stored(session, without)
    assert (second.call_weekday, second.call_window_start, second.call_mode) == \
        (None, None, CallMode.AUTOMATED)


def test_the_card_lists_the_last_planned_calls_with_their_results(client, login, session,
                                                                  settings):
    person = enrol(session, settings)
    last_week = PlannedCall(enrollee_id=person.id, kind=CallKind.COURTESY,
                            mode=CallMode.OPERATOR, occasion=NOW.date() - timedelta(days=7),
                            planned_at=NOW - timedelta(days=7), state=PlannedCallState.DONE,
                            result=CallResult.CONCERN, attempts=2,
                            completed_at=NOW - timedelta(days=7), created_at=NOW,
                            updated_at=NOW)
    last_week.log.append(PlannedCallLog(attempt=2, at=NOW - timedelta(days=7),
                                        result=CallResult.CONCERN,
                                        note="Il frigorifero è vuoto."))
    upcoming = PlannedCall(enrollee_id=person.id, kind=CallKind.COURTESY,
                           mode=CallMode.OPERATOR, occasion=NOW.date(), planned_at=NOW,
                           next_attempt_at=NOW + timedelta(minutes=30),
                           state=PlannedCallState.PLANNED, attempts=1, created_at=NOW,
                           updated_at=NOW)
    session.add_all([last_week, upcoming])
    session.commit()
    login(Role.SOCIAL_WORKER)
    card = client.get(f"/enrollees/{person.id}").get_data(as_text=True)
    calls = card.split('class="calls planned-calls"', 1)[1].split("</ul>", 1)[0]
    assert calls.index("28/11/2026") < calls.index("21/11/2026")  # newest first
    assert "Ha risposto, con una preoccupazione" in calls and "2 tentativi" in calls
    assert "Il frigorifero è vuoto." in calls
    assert "prossimo tentativo 28/11 11:30" in calls  # local time
