"""/api/v1: bearer tokens, the same roles as the pages, JSON in and out."""

from __future__ import annotations

from sqlalchemy import select

from telecare.models import AuditEntry, Enrollee, Role
from tests.factories import enrollee_data
from tests.web.conftest import bearer
from tests.web.test_enrollees import enrol


def test_it_lists_enrollees_with_phones_and_contacts(client, tokens, session, settings):
    enrollee = enrol(session, settings, first_name="Rosa", last_name="Esposito")
    response = client.get("/api/v1/enrollees?q=esposito&state=active",
                          headers=bearer(tokens[Role.OPERATOR]))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 50)
    item = body["items"][0]
    assert item["id"] == enrollee.id
    assert item["address"]["municipality"] == "Milano (MI)"
    assert item["phones"] == [{"number": "+390226145678", "kind": "landline"}]
    assert [(c["position"], c["name"], c["holds_key"]) for c in item["contacts"]] == \
        [(1, "Anna Verdi", True), (2, "Paolo Rossi", False)]
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor, entry.detail["ids"]) == \
        ("list", "api:operator", [enrollee.id])


def test_it_filters_by_municipality_and_bounds_per_page(client, tokens, session, settings):
    enrol(session, settings, municipality_istat="108033", address_postal_code="20900")
    enrol(session, settings)
    headers = bearer(tokens[Role.SUPERVISOR])
    monza = client.get("/api/v1/enrollees?municipality=Monza", headers=headers).get_json()
    assert [e["address"]["municipality_istat"] for e in monza["items"]] == ["108033"]
    assert client.get("/api/v1/enrollees?per_page=201", headers=headers).status_code == 400
    assert client.get("/api/v1/enrollees?state=sleeping", headers=headers).status_code == 400


def test_it_gets_one_enrollee_and_audits_the_view(client, tokens, session, settings, users):
    enrollee = enrol(session, settings)
    response = client.get(f"/api/v1/enrollees/{enrollee.id}",
                          headers=bearer(tokens[Role.OPERATOR]))
    assert response.status_code == 200
    assert response.get_json()["codice_fiscale"] == enrollee.codice_fiscale
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.entity_id, entry.actor, entry.user_id) == \
        ("view", enrollee.id, "api:operator", users[Role.OPERATOR].id)
    missing = client.get("/api/v1/enrollees/999999", headers=bearer(tokens[Role.OPERATOR]))
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_it_creates_an_enrollee(client, tokens, session):
    record = enrollee_data()
    response = client.post("/api/v1/enrollees", json=record,
                           headers=bearer(tokens[Role.SOCIAL_WORKER]))
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/enrollees/{created['id']}")
    stored = session.get(Enrollee, created["id"])
    assert stored.codice_fiscale == record["codice_fiscale"]
    assert [c.name for c in stored.contacts] == ["Anna Verdi", "Paolo Rossi"]


def test_it_takes_and_gives_the_weekly_call_slot(client, tokens, session):
    record = enrollee_data(call_weekday=2, call_window_start="10:00",
                           call_window_end="11:00", call_mode="operator")
    response = client.post("/api/v1/enrollees", json=record,
                           headers=bearer(tokens[Role.SOCIAL_WORKER]))
    assert response.status_code == 201
    assert response.get_json()["weekly_call"] == {
        "weekday": 2, "window_start": "10:00", "window_end": "11:00", "mode": "operator"}
    late = enrollee_data(call_window_start="21:00", call_window_end="22:00")
    response = client.post("/api/v1/enrollees", json=late,
                           headers=bearer(tokens[Role.SOCIAL_WORKER]))
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["field"] == "call_window_end" and "20:00" in error["reason"]


def test_it_names_each_bad_field_with_422(client, tokens, session):
    record = enrollee_data(sex="X", municipality_istat="999999")
    record["phones"] = [{"number": "12", "kind": "landline"}]
    response = client.post("/api/v1/enrollees", json=record,
                           headers=bearer(tokens[Role.ADMIN]))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"sex", "municipality_istat", "phones[1].number"} <= {e["field"] for e in errors}
    assert all(e["reason"] for e in errors)
    assert session.scalar(select(Enrollee).where(
        Enrollee.codice_fiscale == record["codice_fiscale"])) is None


def test_it_refuses_what_is_not_a_json_object(client, tokens):
    headers = bearer(tokens[Role.ADMIN])
    assert client.post("/api/v1/enrollees", data="name=x", headers=headers).status_code == 400
    assert client.post("/api/v1/enrollees", json=[1, 2], headers=headers).status_code == 400
    response = client.post("/api/v1/enrollees", json={**enrollee_data(), "phones": "x"},
                           headers=headers)
    assert response.status_code in (400, 422) and response.is_json


def test_it_answers_401_without_a_valid_token_and_403_for_readers_writing(client, tokens):
    assert client.get("/api/v1/enrollees").status_code == 401
    bad = client.get("/api/v1/enrollees", headers=bearer("tc_not-a-token"))
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"].startswith("Bearer")
    refused = client.post("/api/v1/enrollees", json=enrollee_data(),
                          headers=bearer(tokens[Role.OPERATOR]))
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"


def test_it_refuses_a_disabled_users_token(client, tokens, users, session):
    users[Role.OPERATOR].active = False
    session.commit()
    response = client.get("/api/v1/enrollees", headers=bearer(tokens[Role.OPERATOR]))
    assert response.status_code == 401
