"""An operator's weekly call in a real browser: open the next call, read the script, log
"no answer", and see the retry scheduled. The server runs on a fixed clock, so the retry's
time is known exactly and no calendar rule (night, holiday) depends on when the test runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from codicefiscale import codicefiscale
from sqlalchemy import select

from campaigns.news import add_news
from telecare.actor import Actor
from telecare.db import session_scope
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import (
    CallKind,
    CallMode,
    CallResult,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    Role,
)
from telecare.runtime import Runtime
from telecare.settings import DatabaseSettings, WebSettings
from telecare.users import create_user
from tests.browser.conftest import PASSWORD
from tests.factories import enrollee_data
from tests.web.conftest import FixedClock

# A Tuesday, 10:00 in Rome: inside the calling day, not a holiday.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def live_runtime(settings, server_database):
    """The browser fixtures' runtime, on a clock that stands still at NOW."""
    runtime = Runtime(settings.replace(database=DatabaseSettings(url=server_database),
                                       web=WebSettings(secret_key="browser-test")),
                      FixedClock(NOW))
    with session_scope(runtime.sessions) as session:
        for role in Role:
            create_user(session, role.value, f"{role.value.title()} Test", role, PASSWORD,
                        Actor.system(), NOW)
    yield runtime
    runtime.close()


@pytest.fixture
def due_call(live_runtime) -> int:
    """Anna Colombo's weekly call, made by an operator, due five minutes ago; a news item
    for Milan this week."""
    record = enrollee_data(first_name="Anna", last_name="Colombo", sex="F")
    record["codice_fiscale"] = codicefiscale.encode(
        lastname="Colombo", firstname="Anna", gender="F", birthdate=record["birth_date"],
        birthplace="F205")
    with session_scope(live_runtime.sessions) as session:
        data = read_enrollee(record, TODAY, live_runtime.settings.enrolment)
        person = service.enrol(session, data, Actor("setup"), NOW)
        add_news(session, {"kind": "event", "municipality": "015146",
                           "title": "Vaccinazione antinfluenzale",
                           "text": "Senza prenotazione in farmacia fino al 20 dicembre.",
                           "valid_until": "2026-12-20"}, TODAY, Actor("setup"), NOW)
        due = NOW - timedelta(minutes=5)
        call = PlannedCall(enrollee_id=person.id, kind=CallKind.COURTESY,
                           mode=CallMode.OPERATOR, occasion=TODAY, planned_at=due,
                           next_attempt_at=due, state=PlannedCallState.PLANNED,
                           created_at=NOW, updated_at=NOW)
        session.add(call)
        session.flush()
        return call.id


def test_an_operator_opens_the_next_call_logs_no_answer_and_sees_the_retry(
        page, live_server, live_runtime, due_call):
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.goto(live_server + "/calls")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/calls")
    row = page.locator(f".call-row[data-call-id='{due_call}']")
    assert "Colombo Anna" in row.inner_text()

    page.click("#open-next")
    page.wait_for_url(f"**/calls/{due_call}")
    script = page.locator("#script").inner_text()
    assert "Buongiorno signora Colombo" in script
    assert "Vaccinazione antinfluenzale. Senza prenotazione in farmacia" in script

    page.check("#result-no_answer")
    page.fill("#note", "Squilla a vuoto.")
    with page.expect_navigation():
        page.click("#log-outcome")
    assert "Il tentativo 2 di 3 è previsto alle 10:30" in page.locator(".flashes").inner_text()
    assert "Il tentativo 2 di 3 è previsto alle 10:30" in \
        page.locator("#call-status").inner_text()
    assert page.locator("#script").count() == 0  # nobody has the call open now

    with session_scope(live_runtime.sessions) as session:
        call = session.get(PlannedCall, due_call)
        assert (call.state, call.attempts, call.next_attempt_at) == \
            (PlannedCallState.PLANNED, 1, NOW + timedelta(minutes=30))
        log = session.scalars(select(PlannedCallLog)
                              .where(PlannedCallLog.planned_call_id == due_call)).one()
        assert (log.result, log.note) == (CallResult.NO_ANSWER, "Squilla a vuoto.")
    assert script_errors == []
