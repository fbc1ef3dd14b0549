"""Signing in and out: generic failures, a brake on guessing, safe cookies, the signing key."""

from __future__ import annotations

import stat

from sqlalchemy import select

from telecare.models import AuditEntry, Role
from telecare.runtime import Runtime
from telecare.settings import WebSettings
from tests.web.conftest import PASSWORD
from web import create_app


def test_it_signs_in_and_out(client, users, session):
    assert client.get("/").status_code == 302
    response = client.post("/login?next=/enrollees",
                           data={"username": "Social_Worker ", "password": PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, "/enrollees")
    assert client.get("/").status_code == 200
    session.refresh(users[Role.SOCIAL_WORKER])
    assert users[Role.SOCIAL_WORKER].last_login_at is not None
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "user"))
    assert {"login", "logout"} <= set(actions)


def test_it_says_the_same_for_a_wrong_password_and_an_unknown_user(client, users):
    wrong = client.post("/login", data={"username": "admin", "password": "nope-nope-nope"})
    unknown = client.post("/login", data={"username": "nobody", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Nome utente o password errati" in wrong.get_data(as_text=True)
    assert _message(wrong) == _message(unknown)


def _message(response) -> str:
    page = response.get_data(as_text=True)
    start = page.index('class="flash')
    return page[start:page.index("</p>", start)]


def test_it_will_not_redirect_off_site_after_sign_in(client, users):
    response = client.post("/login?next=//evil.example/x",
                           data={"username": "admin", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_it_pauses_a_username_after_repeated_failures(client, users):
    for _ in range(5):
        client.post("/login", data={"username": "admin", "password": "wrong-password"})
    blocked = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert blocked.status_code == 429
    assert client.get("/").status_code == 302
    # Another name from the same address is not held up by it.
    assert client.post("/login", data={"username": "operator",
                                       "password": PASSWORD}).status_code == 302


def test_it_refuses_a_disabled_user_and_ends_their_session(client, users, login, session):
    login(Role.OPERATOR)
    users[Role.OPERATOR].active = False
    session.commit()
    assert client.get("/").status_code == 302
    assert client.post("/login", data={"username": "operator",
                                       "password": PASSWORD}).status_code == 401


def test_it_sets_safe_session_cookies(runtime, users):
    runtime.settings = runtime.settings.replace(public_url="https://telecare.example.it",
                                                web=WebSettings(secret_key="k",
                                                                session_minutes=30))
    app = create_app(runtime, {"TESTING": True, "WTF_CSRF_ENABLED": False})
    with app.test_client() as browser:
        response = browser.post("/login", data={"username": "admin", "password": PASSWORD})
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime.total_seconds() == 30 * 60


def test_it_generates_the_secret_key_once_into_the_data_folder(settings):
    first = create_app(Runtime(settings))
    second = create_app(Runtime(settings))
    path = settings.data_dir / "secret_key"
    assert first.secret_key == second.secret_key == path.read_text().strip()
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_it_sends_a_visitor_back_to_the_page_they_asked_for(client, users):
    response = client.get("/enrollees?q=rossi")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    signed_in = client.post(login_url, data={"username": "operator", "password": PASSWORD})
    assert signed_in.headers["Location"] == "/enrollees?q=rossi"


def test_it_keeps_pages_out_of_caches_and_frames(client, login):
    login(Role.OPERATOR)
    response = client.get("/enrollees")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
