"""A real server on a free port and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
import threading

import pytest
import waitress

from telecare.actor import Actor
from telecare.db import session_scope
from telecare.models import Role
from telecare.runtime import Runtime
from telecare.settings import DatabaseSettings, WebSettings
from telecare.users import create_user
from web import create_app

PASSWORD = "correct horse battery"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_runtime(settings, server_database):
    runtime = Runtime(settings.replace(database=DatabaseSettings(url=server_database),
                                       web=WebSettings(secret_key="browser-test")))
    with session_scope(runtime.sessions) as session:
        for role in Role:
            create_user(session, role.value, f"{role.value.title()} Test", role, PASSWORD,
                        Actor.system(), runtime.clock.now())
    yield runtime
    runtime.close()


@pytest.fixture
def live_server(live_runtime):
    server = waitress.create_server(create_app(live_runtime), host="127.0.0.1", port=0,
                                    threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()
