"""The operators' weekly-call worklist: open the next call, log what came of it, retry, alarm."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from codicefiscale import codicefiscale
from sqlalchemy import select

from campaigns.news import add_news
from telecare.actor import Actor
from telecare.courtesy import worklist
from telecare.courtesy.calendar import CallCalendar
from telecare.db import begin_writing, make_engine, make_session_factory, session_scope
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import (
    Alarm,
    AlarmKind,
    AuditEntry,
    CallKind,
    CallMode,
    CallResult,
    Device,
    DeviceState,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    Role,
)
from telecare.users import create_user
from tests.conftest import NOW
from tests.factories import enrollee_data
from tests.web.conftest import PASSWORD
from tests.web.test_enrollees import enrol

LOCAL_DAY = NOW.date()  # 28/11/2026: 10:00 UTC is 11:00 in Rome, the same day


def plan(session, enrollee, *, due=NOW - timedelta(minutes=5), kind=CallKind.COURTESY,
         mode=CallMode.OPERATOR, attempts=0) -> PlannedCall:
    call = PlannedCall(enrollee_id=enrollee.id, kind=kind, mode=mode, occasion=LOCAL_DAY,
                       planned_at=due, state=PlannedCallState.PLANNED, next_attempt_at=due,
                       attempts=attempts, created_at=NOW, updated_at=NOW)
    session.add(call)
    session.commit()
    return call


def woman(**overrides) -> dict:
    """A woman's record (the script greets her as signora), whatever the factory's turn."""
    record = enrollee_data(first_name="Anna", last_name="Colombo", sex="F", **overrides)
    record["codice_fiscale"] = codicefiscale.encode(
        lastname="Colombo", firstname="Anna", gender="F", birthdate=record["birth_date"],
        birthplace="F205")
    return record


@pytest.fixture
def person(session, settings):
    data = read_enrollee(woman(), LOCAL_DAY, settings.enrolment)
    enrollee = service.enrol(session, data, Actor("setup"), NOW)
    session.commit()
    return enrollee


@pytest.fixture
def second_operator(session, users):
    user = create_user(session, "operator2", "Bruno Secondo", Role.OPERATOR, PASSWORD,
                       Actor.system(), NOW)
    session.commit()
    return user


def sign_in(app, username: str):
    browser = app.test_client()
    response = browser.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def reload(session, call: PlannedCall) -> PlannedCall:
    session.expire_all()
    return session.get(PlannedCall, call.id)


def audited(session, call_id: int) -> list[str]:
    return session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "planned_call", AuditEntry.entity_id == call_id)
        .order_by(AuditEntry.id)).all()


def opened(client, call: PlannedCall):
    response = client.post(f"/calls/{call.id}/open")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def test_it_lists_the_calls_open_and_due_now_oldest_first(client, login, session, settings,
                                                          users):
    people = [enrol(session, settings) for _ in range(5)]
    recent = plan(session, people[0], due=NOW - timedelta(minutes=5))
    oldest = plan(session, people[1], due=NOW - timedelta(hours=2))
    plan(session, people[2], due=NOW + timedelta(hours=1))  # not due yet
    plan(session, people[3], mode=CallMode.AUTOMATED)  # the automated caller's
    taken = plan(session, people[4], due=NOW - timedelta(hours=3))
    worklist.open_call(session, taken.id, Actor("supervisor", users[Role.SUPERVISOR].id), NOW)
    session.commit()
    login(Role.OPERATOR)
    page = client.get("/calls").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'data-call-id="(\d+)"', page)]
    assert order == [taken.id, oldest.id, recent.id]
    assert "Aperta: Supervisor Test" in page  # who has which call
    assert "2 chiamate da fare ora." in page
    assert people[1].last_name in page and "Chiamata settimanale" in page


def test_open_next_claims_the_oldest_due_call_and_shows_its_script(client, login, session,
                                                                   settings, person, users):
    later = plan(session, enrol(session, settings), due=NOW - timedelta(minutes=1))
    call = plan(session, person, due=NOW - timedelta(minutes=30))
    add_news(session, {"kind": "deadline", "municipality": "015146", "title": "Bonus bollette",
                       "text": "Domande entro il 15 dicembre.", "valid_until": "2026-12-15"},
             LOCAL_DAY, Actor("giulia"), NOW)
    session.add(Device(serial="PND-W1", enrollee_id=person.id, state=DeviceState.ACTIVE,
                       last_seen_at=NOW, last_test_at=NOW - timedelta(days=7), created_at=NOW))
    session.commit()
    login(Role.OPERATOR)
    response = client.post("/calls/next")
    assert response.headers["Location"] == f"/calls/{call.id}"
    call = reload(session, call)
    assert (call.state, call.operator_id, call.attempts, call.attempt_started_at) == \
        (PlannedCallState.CALLING, users[Role.OPERATOR].id, 1, NOW)
    assert reload(session, later).state == PlannedCallState.PLANNED
    assert audited(session, call.id) == ["open_call"]

    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    script = page.split('id="script"', 1)[1].split("</section>", 1)[0]
    assert "Buongiorno signora Colombo" in script
    assert "Bonus bollette. Domande entro il 15 dicembre." in script
    assert "pulsante" in script  # the alarm-button test
    assert 'href="tel:+390226145678"' in page and "Anna Verdi" in page
    assert "Ha le chiavi" in page and "Diabete di tipo 2" in page and "PND-W1" in page
    assert "21/11/2026" in page  # the pendant's last test, in local time
    # Asking again gives the operator the call they have open, not a second one.
    assert client.post("/calls/next").headers["Location"] == f"/calls/{call.id}"
    assert reload(session, later).state == PlannedCallState.PLANNED


def test_it_says_so_when_no_call_is_due(client, login, session, settings):
    plan(session, enrol(session, settings), due=NOW + timedelta(minutes=10))
    login(Role.OPERATOR)
    response = client.post("/calls/next", follow_redirects=True)
    assert "nessuna chiamata è da fare ora" in response.get_data(as_text=True)


def test_two_operators_cannot_open_the_same_call(app, session, person, users,
                                                 second_operator):
    call = plan(session, person)
    first, second = sign_in(app, "operator"), sign_in(app, "operator2")
    opened(first, call)
    refused = second.post(f"/calls/{call.id}/open")
    assert refused.status_code == 409
    assert "Operator Test ha già aperto questa chiamata" in refused.get_data(as_text=True)
    call = reload(session, call)
    assert (call.operator_id, call.attempts) == (users[Role.OPERATOR].id, 1)
    # The second operator's "next call" passes it over.
    response = second.post("/calls/next", follow_redirects=True)
    assert "nessuna chiamata è da fare ora" in response.get_data(as_text=True)
    # Nor can they log its outcome or give it back; a supervisor can.
    assert second.post(f"/calls/{call.id}/outcome",
                       data={"result": "well"}).status_code == 409
    assert second.post(f"/calls/{call.id}/release").status_code == 409
    supervisor = sign_in(app, "supervisor")
    assert supervisor.post(f"/calls/{call.id}/outcome",
                           data={"result": "well"}).status_code == 302
    assert reload(session, call).state == PlannedCallState.DONE


def test_an_operator_reopening_their_own_call_starts_no_second_attempt(client, login, session,
                                                                       person):
    call = plan(session, person)
    login(Role.OPERATOR)
    opened(client, call)
    opened(client, call)
    assert reload(session, call).attempts == 1


@pytest.mark.parametrize(("result", "note", "state", "stored"), [
    ("well", "", PlannedCallState.DONE, CallResult.WELL),
    ("concern", "Non esce di casa da una settimana.", PlannedCallState.DONE,
     CallResult.CONCERN),
])
def test_it_logs_an_answered_call_and_closes_it(client, login, session, person, users, result,
                                                note, state, stored):
    call = plan(session, person)
    login(Role.OPERATOR)
    opened(client, call)
    response = client.post(f"/calls/{call.id}/outcome", data={"result": result, "note": note})
    assert response.headers["Location"] == f"/calls/{call.id}"
    call = reload(session, call)
    assert (call.state, call.result, call.completed_at, call.next_attempt_at) == \
        (state, stored, NOW, None)
    log = session.scalars(select(PlannedCallLog).where(
        PlannedCallLog.planned_call_id == call.id)).one()
    assert (log.attempt, log.result, log.note, log.user_id, log.at) == \
        (1, stored, note, users[Role.OPERATOR].id, NOW)
    assert audited(session, call.id) == ["open_call", "log_call"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "log_call")).one()
    assert entry.detail == {"result": result, "attempt": 1, "state": "done"}  # no note
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "Esito registrato" in page


def test_no_answer_schedules_the_retry_and_says_when(client, login, session, person, users):
    call = plan(session, person)
    login(Role.OPERATOR)
    opened(client, call)
    response = client.post(f"/calls/{call.id}/outcome",
                           data={"result": "no_answer", "note": "Squilla a vuoto."},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Il tentativo 2 di 3 è previsto alle 11:30" in page  # local time, 30 min later
    call = reload(session, call)
    assert (call.state, call.attempts, call.next_attempt_at, call.operator_id) == \
        (PlannedCallState.PLANNED, 1, NOW + timedelta(minutes=30), users[Role.OPERATOR].id)
    log = session.scalars(select(PlannedCallLog).where(
        PlannedCallLog.planned_call_id == call.id)).one()
    assert (log.result, log.note) == (CallResult.NO_ANSWER, "Squilla a vuoto.")
    # Not due again until then: it has left the list of calls to open.
    assert f'data-call-id="{call.id}"' not in client.get("/calls").get_data(as_text=True)


def test_the_last_unanswered_attempt_opens_an_alarm(client, login, session, person):
    call = plan(session, person, attempts=2)  # two automated attempts went unanswered
    login(Role.OPERATOR)
    opened(client, call)
    response = client.post(f"/calls/{call.id}/outcome", data={"result": "no_answer"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    call = reload(session, call)
    assert (call.state, call.result, call.attempts) == \
        (PlannedCallState.MISSED, CallResult.NO_ANSWER, 3)
    alarm = session.get(Alarm, call.alarm_id)
    assert (alarm.kind, alarm.enrollee_id) == (AlarmKind.MISSED_COURTESY_CALLS, person.id)
    opened_event = alarm.events[0]
    assert (opened_event.kind, opened_event.detail["reason"], opened_event.detail["call"]) == \
        ("opened", "no_answer", call.id)
    assert "è stato aperto un allarme" in page and f"/alarms/{alarm.id}" in page


def test_a_wrong_number_opens_an_alarm_at_once(client, login, session, person):
    call = plan(session, person)
    login(Role.OPERATOR)
    opened(client, call)
    client.post(f"/calls/{call.id}/outcome", data={"result": "wrong_number",
                                                   "note": "Risponde un negozio."})
    call = reload(session, call)
    assert (call.state, call.result, call.attempts) == \
        (PlannedCallState.MISSED, CallResult.WRONG_NUMBER, 1)
    assert session.get(Alarm, call.alarm_id).kind == AlarmKind.MISSED_COURTESY_CALLS


def test_a_missed_birthday_call_raises_no_alarm(client, login, session, person):
    call = plan(session, person, kind=CallKind.BIRTHDAY, attempts=2)
    login(Role.OPERATOR)
    opened(client, call)
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "Buon compleanno" in page
    client.post(f"/calls/{call.id}/outcome", data={"result": "no_answer"})
    call = reload(session, call)
    assert (call.state, call.alarm_id) == (PlannedCallState.MISSED, None)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "result", "scegliere com&#39;è andata la chiamata"),
    ({"result": "help_requested"}, "result", "help_requested non è tra i valori ammessi"),
    ({"result": "concern", "note": "  "}, "note", "dire qual è la preoccupazione"),
    ({"result": "well", "note": "x" * 2001}, "note", "supera i 2000 caratteri"),
])
def test_it_names_the_field_of_a_bad_outcome_and_changes_nothing(client, login, session,
                                                                 person, data, field,
                                                                 message):
    call = plan(session, person)
    login(Role.OPERATOR)
    opened(client, call)
    response = client.post(f"/calls/{call.id}/outcome", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    call = reload(session, call)
    assert (call.state, call.attempts) == (PlannedCallState.CALLING, 1)
    assert session.scalars(select(PlannedCallLog)).all() == []


def test_an_outcome_needs_an_open_call(client, login, session, person):
    call = plan(session, person)
    login(Role.OPERATOR)
    response = client.post(f"/calls/{call.id}/outcome", data={"result": "well"})
    assert response.status_code == 409
    assert "prima aprire la chiamata" in response.get_data(as_text=True)
    assert client.post("/calls/999999/outcome", data={"result": "well"}).status_code == 404


def test_calls_not_due_or_automated_cannot_be_opened(client, login, session, settings):
    later = plan(session, enrol(session, settings), due=NOW + timedelta(hours=1))
    automated = plan(session, enrol(session, settings), mode=CallMode.AUTOMATED)
    login(Role.OPERATOR)
    response = client.post(f"/calls/{later.id}/open")
    assert response.status_code == 409
    assert "non è ancora da fare" in response.get_data(as_text=True)
    response = client.post(f"/calls/{automated.id}/open")
    assert response.status_code == 409
    assert "sistema automatico" in response.get_data(as_text=True)
    assert reload(session, later).attempts == 0 and reload(session, automated).attempts == 0


def test_giving_a_call_back_counts_no_attempt(client, login, session, person):
    call = plan(session, person, attempts=1, due=NOW - timedelta(hours=1))
    login(Role.OPERATOR)
    opened(client, call)
    assert reload(session, call).attempts == 2
    response = client.post(f"/calls/{call.id}/release")
    assert response.headers["Location"] == "/calls"
    call = reload(session, call)
    assert (call.state, call.attempts, call.next_attempt_at, call.operator_id,
            call.attempt_started_at) == (PlannedCallState.PLANNED, 1, NOW, None, None)
    assert audited(session, call.id) == ["open_call", "release_call"]
    assert session.scalars(select(PlannedCallLog)).all() == []


def test_the_call_page_shows_the_last_notes_with_who_and_when(client, login, session, person,
                                                               users, settings):
    earlier = plan(session, person, due=NOW - timedelta(days=7))
    earlier.occasion = LOCAL_DAY - timedelta(days=7)
    session.commit()
    operator = Actor("operator", users[Role.OPERATOR].id)
    worklist.open_call(session, earlier.id, operator, NOW - timedelta(days=7))
    worklist.log_outcome(session, earlier.id, operator, "concern", "Ha poca spesa in casa.",
                         settings.calls, CallCalendar.from_settings(settings),
                         NOW - timedelta(days=7))
    session.commit()
    call = plan(session, person)
    assert [n.note for n in worklist.last_notes(session, person.id, 5)] == \
        ["Ha poca spesa in casa."]
    login(Role.OPERATOR)
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    notes = page.split('id="last-notes"', 1)[1]
    assert "Ha poca spesa in casa." in notes and "Operator Test" in notes
    assert "21/11/2026" in notes


# Real concurrency: two sessions on a database of their own, as two server threads would be.


@pytest.fixture
def shared_db(server_database, settings):
    engine = make_engine(server_database)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        ids = [create_user(session, f"op{n}", f"Operator {n}", Role.OPERATOR, PASSWORD,
                           Actor.system(), NOW).id for n in (1, 2)]
        calls = []
        for _ in range(2):
            data = read_enrollee(enrollee_data(), LOCAL_DAY, settings.enrolment)
            person = service.enrol(session, data, Actor("setup"), NOW)
            call = PlannedCall(enrollee_id=person.id, kind=CallKind.COURTESY,
                               mode=CallMode.OPERATOR, occasion=LOCAL_DAY,
                               planned_at=NOW - timedelta(minutes=5),
                               next_attempt_at=NOW - timedelta(minutes=5),
                               state=PlannedCallState.PLANNED, attempts=0, created_at=NOW,
                               updated_at=NOW)
            session.add(call)
            session.flush()
            calls.append(call.id)
    yield factory, [Actor(f"op{n}", user_id) for n, user_id in zip((1, 2), ids, strict=True)], \
        calls
    engine.dispose()


def race(factory, actors, work) -> list:
    """Both operators act at the same moment, each in their own session and transaction."""
    barrier = threading.Barrier(len(actors))
    outcomes: list = [None] * len(actors)

    def operator(index: int, actor: Actor) -> None:
        with factory() as session:
            barrier.wait()
            begin_writing(session)
            try:
                outcomes[index] = work(session, actor).id
                session.commit()
            except ValidationFailed as failed:
                session.rollback()
                outcomes[index] = failed.errors[0]

    threads = [threading.Thread(target=operator, args=(i, a)) for i, a in enumerate(actors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_operators_opening_one_call_at_once_get_one_attempt(shared_db):
    factory, actors, (call_id, _) = shared_db
    outcomes = race(factory, actors,
                    lambda session, actor: worklist.open_call(session, call_id, actor, NOW))
    won = [o for o in outcomes if o == call_id]
    lost = [o for o in outcomes if o != call_id]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].field == "operator"
    with session_scope(factory) as session:
        call = session.get(PlannedCall, call_id)
        assert call.attempts == 1 and call.state == PlannedCallState.CALLING
        winner = actors[outcomes.index(call_id)]
        assert call.operator_id == winner.user_id


def test_two_operators_asking_for_the_next_call_at_once_get_different_calls(shared_db):
    factory, actors, call_ids = shared_db
    outcomes = race(factory, actors,
                    lambda session, actor: worklist.open_next(session, actor, NOW))
    assert sorted(outcomes) == sorted(call_ids)
    with session_scope(factory) as session:
        assert [session.get(PlannedCall, i).attempts for i in call_ids] == [1, 1]
