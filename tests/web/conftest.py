"""Web fixtures: an app on the test's rolled-back transaction, users of every role, a login."""

from __future__ import annotations

import pytest

from telecare.actor import Actor
from telecare.clock import Clock
from telecare.models import Role
from telecare.runtime import Runtime
from telecare.settings import WebSettings
from telecare.users import create_token, create_user
from tests.conftest import NOW
from web import create_app

PASSWORD = "correct horse battery"


class FixedClock(Clock):
    def __init__(self, now):
        self.at = now

    def now(self):
        return self.at


@pytest.fixture
def runtime(settings, session_factory) -> Runtime:
    settings = settings.replace(web=WebSettings(secret_key="test-secret-key"))
    runtime = Runtime(settings, FixedClock(NOW))
    runtime.sessions = session_factory
    return runtime


@pytest.fixture
def app(runtime):
    return create_app(runtime, {"TESTING": True, "WTF_CSRF_ENABLED": False})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def users(session) -> dict:
    """One user per role, named after it."""
    made = {role: create_user(session, role.value, f"{role.value.title()} Test", role, PASSWORD,
                              Actor.system(), NOW)
            for role in Role}
    session.commit()
    return made


@pytest.fixture
def login(client, users):
    def login(role: Role, target=None):
        target = target or client
        response = target.post("/login", data={"username": role.value, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return target

    return login


@pytest.fixture
def tokens(session, users) -> dict:
    made = {}
    for role, user in users.items():
        _, secret = create_token(session, user, "test", Actor.system(), NOW)
        made[role] = secret
    session.commit()
    return made


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
