"""Deny by default: walk every route the app has and knock on it as every kind of visitor."""

from __future__ import annotations

import re

import pytest

from campaigns.geography import shipped_neighbours
from campaigns.scams import read_scam_report, send_scam_warning
from telecare.actor import Actor
from telecare.alarms import raise_alarm
from telecare.models import (
    AlarmKind,
    CallKind,
    CallMode,
    Device,
    PlannedCall,
    PlannedCallState,
    Role,
    Severity,
)
from tests.conftest import NOW
from tests.web.conftest import PASSWORD, bearer
from web import create_app

OPEN = {"auth.login", "static", "health.healthz",
        # Prometheus scrapes without a session: counts only, and web.metrics_token can
        # close it (tests/web/test_metrics.py).
        "metrics.metrics",
        # Twilio's webhooks: no login, but each refuses (403) a request without a valid
        # X-Twilio-Signature (tests/telephony/test_webhooks.py).
        "twilio.voice", "twilio.gather", "twilio.call_status", "twilio.sms_status",
        "twilio.sms_inbound"}


# Pieces of a page that the live alarm queue fetches to refresh itself, not whole pages.
FRAGMENTS = {"alarms.rows", "alarms.panel"}


def _url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        elif kind == "IntegerConverter":
            values[name] = 1
        else:
            values[name] = "x"
    return rule.build(values)[1]


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_it_gives_every_route_its_roles_or_marks_it_public(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in OPEN:
            assert rule.endpoint == "static" or view.public
        else:
            assert getattr(view, "roles", None), f"{rule.endpoint} declares no roles"
            assert not getattr(view, "public", False)


def test_it_refuses_every_route_to_anonymous_visitors(app, client):
    checked = 0
    for rule, method in _routes(app):
        if rule.endpoint in OPEN:
            continue
        response = client.open(_url(rule), method=method)
        if rule.endpoint.startswith("api."):
            assert response.status_code == 401, (rule, method)
            assert response.is_json
        else:
            assert response.status_code == 302, (rule, method, response.status_code)
            assert response.headers["Location"].startswith("/login")
        checked += 1
    assert checked > 20


def test_it_refuses_every_route_to_the_roles_it_does_not_name(app, client, users, login,
                                                              tokens):
    checked = 0
    for role in Role:
        with app.test_client() as browser:
            login(role, browser)
            for rule, method in _routes(app):
                if rule.endpoint in OPEN:
                    continue
                allowed = app.view_functions[rule.endpoint].roles
                if role in allowed:
                    continue
                if rule.endpoint.startswith("api."):
                    response = browser.open(_url(rule), method=method,
                                            headers=bearer(tokens[role]))
                    assert response.is_json
                else:
                    response = browser.open(_url(rule), method=method)
                assert response.status_code == 403, (role, rule, method, response.status_code)
                checked += 1
    assert checked > 10


def test_it_never_lets_the_session_cookie_into_the_api(client, login):
    login(Role.ADMIN)
    response = client.get("/api/v1/enrollees")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_it_refuses_every_post_without_a_csrf_token(runtime, users):
    app = create_app(runtime, {"TESTING": True})
    posts = [rule for rule, method in _routes(app)
             if method == "POST" and not rule.endpoint.startswith(("api.", "twilio."))]
    assert len(posts) > 8
    for rule in posts:
        allowed = app.view_functions[rule.endpoint].roles if rule.endpoint != "auth.login" \
            else {Role.ADMIN}
        role = Role.ADMIN if Role.ADMIN in allowed else sorted(allowed)[0]
        with app.test_client() as browser:
            page = browser.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            signed_in = browser.post("/login", data={"username": role.value,
                                                     "password": PASSWORD,
                                                     "csrf_token": token})
            assert signed_in.status_code == 302
            response = browser.post(_url(rule), data={"reason": "x", "direction": "up"})
            assert response.status_code == 400, (rule, response.status_code)
    with app.test_client() as browser:
        response = browser.post("/login", data={"username": "admin", "password": PASSWORD})
        assert response.status_code == 400


def test_it_closes_a_route_that_declares_nothing(runtime, users, login):
    app = create_app(runtime, {"TESTING": True, "WTF_CSRF_ENABLED": False})
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    with app.test_client() as browser:
        login(Role.ADMIN, browser)
        assert browser.get("/forgotten").status_code == 403


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SUPERVISOR])
def test_it_lets_readers_open_the_card_but_not_the_forms(client, login, role):
    login(role)
    assert client.get("/enrollees").status_code == 200
    assert client.get("/enrollees/new").status_code == 403


def test_it_shows_every_page_to_every_role_it_names(app, users, login, session, settings):
    from tests.web.test_enrollees import enrol

    enrollee = enrol(session, settings)
    device = Device(serial="PND-ACCESS", enrollee_id=enrollee.id, created_at=NOW)
    session.add(device)
    campaign, _ = send_scam_warning(session, read_scam_report(
        {"municipality": "015146", "scam_kind": "fake_relative", "message_it": "Attenzione.",
         "valid_until": "2026-12-31"}, NOW.date(), ["it"], None), shipped_neighbours(), None,
        Actor.system(), NOW)
    alarm, _ = raise_alarm(session, enrollee_id=enrollee.id, kind=AlarmKind.BUTTON,
                           severity=Severity.CRITICAL, now=NOW)
    call = PlannedCall(enrollee_id=enrollee.id, kind=CallKind.COURTESY, mode=CallMode.OPERATOR,
                       occasion=NOW.date(), planned_at=NOW, next_attempt_at=NOW,
                       state=PlannedCallState.PLANNED, created_at=NOW, updated_at=NOW)
    session.add(call)
    session.commit()
    values = {"enrollee_id": enrollee.id, "contact_id": enrollee.contacts[0].id,
              "action": "suspend", "user_id": users[Role.OPERATOR].id, "device_id": device.id,
              "campaign_id": campaign.id, "alarm_id": alarm.id, "kind": "button",
              "call_id": call.id}
    # The alarm stream is a page that lasts minutes: tests/web/test_alarms.py reads it.
    pages = [rule for rule, method in _routes(app) if method == "GET"
             and rule.endpoint not in OPEN and not rule.endpoint.startswith("api.")
             and rule.endpoint not in ("imports.report", "alarms.stream")]
    assert len(pages) > 8
    for role in Role:
        with app.test_client() as browser:
            login(role, browser)
            for rule in pages:
                if role not in app.view_functions[rule.endpoint].roles:
                    continue
                url = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
                response = browser.get(url)
                assert response.status_code == 200, (role, url, response.status_code)
                if rule.endpoint not in FRAGMENTS:
                    assert '<html lang="it">' in response.get_data(as_text=True)


def test_it_answers_a_missing_page_in_the_readers_language(client, login):
    login(Role.OPERATOR)
    response = client.get("/enrollees/999999")
    assert response.status_code == 404
    assert "Pagina non trovata" in response.get_data(as_text=True)
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"


def test_it_lets_only_social_services_download_a_records_data(app, users, login, session,
                                                                settings):
    # POST /privacy/enrollees/<id>/export: the walk above knocks on it with every role (403
    # for operators and supervisors, 400 without a CSRF token); here the roles it names.
    from tests.web.test_enrollees import enrol

    enrollee = enrol(session, settings)
    for role in Role:
        with app.test_client() as browser:
            login(role, browser)
            response = browser.post(f"/privacy/enrollees/{enrollee.id}/export")
            if role in (Role.SOCIAL_WORKER, Role.ADMIN):
                assert response.status_code == 200, role
                assert response.get_json()["enrollee"]["id"] == enrollee.id
            else:
                assert response.status_code == 403, role
