"""The console: the export download, the erasure date on the card, and an erased record's
card, search results, alarm history and alarm page, with no personal data and no error."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from telecare import alarms
from telecare.actor import Actor
from telecare.models import AlarmKind, AuditEntry, Role, Severity
from telecare.privacy import erasure
from tests.conftest import NOW
from tests.privacy.conftest import ENDED, make_person
from tests.web.conftest import bearer

# The console's clock stands at NOW: this person ended ten days before it.
RECENTLY_ENDED = NOW - timedelta(days=10)


@pytest.fixture
def recent(session, settings):
    """An enrolment ended ten days ago: its data are still whole."""
    return make_person(session, settings, first="Ermenegilda", last="Zanardelli",
                       street="Via Quarenghi 77", phone="02 8765 4321", mobile="348 111 2233",
                       contact="Teodolinda Brambilla", contact_phone="333 444 5566",
                       health="Pacemaker dal 2019", note="Preoccupata per la bolletta",
                       serial="PND-ERM-1", ended=RECENTLY_ENDED)


@pytest.fixture
def erased(session, settings, ermenegilda):
    erasure.erase(session, ermenegilda.enrollee_id, Actor("system"), NOW)
    session.commit()
    return ermenegilda


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.ADMIN])
def test_social_services_download_a_persons_data(client, login, session, recent, role):
    login(role)
    card = page(client, f"/enrollees/{recent.enrollee_id}")
    assert "Esporta i dati (JSON)" in card
    response = client.post(f"/privacy/enrollees/{recent.enrollee_id}/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="telecare-enrollee-{recent.enrollee_id}-'
        f'{NOW.date().isoformat()}.json"')
    assert response.headers["Cache-Control"] == "no-store"
    document = json.loads(response.get_data(as_text=True))
    assert document["enrollee"]["last_name"] == "Zanardelli"
    assert document["generated_by"] == role.value
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert (entry.entity_id, entry.actor) == (recent.enrollee_id, role.value)


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SUPERVISOR])
def test_operators_and_supervisors_neither_see_nor_use_the_export(client, login, recent, role):
    login(role)
    assert "Esporta i dati" not in page(client, f"/enrollees/{recent.enrollee_id}")
    assert client.post(f"/privacy/enrollees/{recent.enrollee_id}/export").status_code == 403


def test_the_export_of_a_missing_record_is_not_found(client, login, users):
    login(Role.SOCIAL_WORKER)
    assert client.post("/privacy/enrollees/999999/export").status_code == 404


def test_the_card_of_an_ended_enrolment_says_when_its_data_go(client, login, recent, settings):
    login(Role.SOCIAL_WORKER)
    notice = re.search(r'<p class="notice" id="erasure">([^<]+)</p>',
                       page(client, f"/enrollees/{recent.enrollee_id}")).group(1)
    assert notice.startswith("I dati personali di questa iscrizione chiusa saranno cancellati "
                             "il 18 novembre 2027, 365 giorni dopo la chiusura")


def test_the_card_says_the_erasure_waits_for_an_open_alarm(client, login, session,
                                                           ermenegilda):
    alarm, _ = alarms.raise_alarm(session, enrollee_id=ermenegilda.enrollee_id,
                                  kind=AlarmKind.DEVICE_OFFLINE, severity=Severity.HIGH,
                                  now=ENDED + timedelta(days=2))
    session.commit()
    login(Role.SOCIAL_WORKER)
    card = page(client, f"/enrollees/{ermenegilda.enrollee_id}")
    assert f"la cancellazione attende che l'allarme {alarm.id} sia risolto" in card


def test_an_erased_record_shows_as_erased_everywhere(client, login, erased, bortolo):
    login(Role.ADMIN)
    card = page(client, f"/enrollees/{erased.enrollee_id}")
    assert f"Scheda cancellata {erased.enrollee_id}" in card
    assert "Anno di nascita: 1938" in card
    assert "i suoi dati personali sono stati cancellati" in card
    listing = page(client, "/enrollees?state=ended")
    assert f"Scheda cancellata {erased.enrollee_id}" in listing and "Guzzetti" in listing
    history = page(client, "/alarms/resolved")
    alarm_page = page(client, f"/alarms/{erased.alarm_ids[0]}")
    others = [page(client, url) for url in (f"/alarms/{erased.alarm_ids[0]}/panel", "/",
                                            "/devices", f"/devices/{erased.device_id}",
                                            "/audit?entity_type=enrollee")]
    for text in (card, listing, history, alarm_page, *others):
        for secret in erased.secrets:
            assert secret not in text, secret
    assert "Guzzetti" in history
    # Still downloadable: what is left, which is no one's personal data.
    export = client.post(f"/privacy/enrollees/{erased.enrollee_id}/export")
    assert export.status_code == 200
    assert all(secret not in export.get_data(as_text=True) for secret in erased.secrets)


def test_an_erased_record_cannot_be_edited(client, login, erased):
    login(Role.SOCIAL_WORKER)
    card = page(client, f"/enrollees/{erased.enrollee_id}")
    assert f'href="/enrollees/{erased.enrollee_id}/edit"' not in card
    response = client.get(f"/enrollees/{erased.enrollee_id}/edit")
    assert response.status_code == 302
    assert "cancellati" in page(client, f"/enrollees/{erased.enrollee_id}")


def test_the_api_serves_an_erased_record_without_personal_data(client, tokens, erased):
    response = client.get(f"/api/v1/enrollees/{erased.enrollee_id}",
                          headers=bearer(tokens[Role.SOCIAL_WORKER]))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert all(secret not in text for secret in erased.secrets)
    listing = client.get("/api/v1/enrollees?state=ended",
                         headers=bearer(tokens[Role.SOCIAL_WORKER]))
    assert listing.status_code == 200


def test_a_contact_cannot_be_added_to_an_erased_record(client, login, erased):
    login(Role.SOCIAL_WORKER)
    response = client.post(f"/enrollees/{erased.enrollee_id}/contacts/new",
                           data={"name": "Nuova Persona", "relation": "friend",
                                 "phone": "333 999 8888"})
    assert response.status_code == 422
    assert "la persona va iscritta di nuovo" in response.get_data(as_text=True)
