from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from web import create_app


def test_it_reports_a_reachable_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "reachable"


def test_it_answers_503_when_the_database_is_unreachable(runtime, tmp_path):
    runtime.sessions = sessionmaker(create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    app = create_app(runtime, {"TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert {k: body[k] for k in ("status", "database", "reasons", "time")} == {
        "status": "unavailable", "database": "unreachable", "reasons": ["database: unreachable"],
        "time": "2026-11-28T10:00:00+00:00"}


def test_it_trusts_forwarded_headers_only_when_told_to(settings, session_factory):
    from telecare.runtime import Runtime
    from telecare.settings import WebSettings
    from web import create_app

    seen = {}

    def remember(app):
        @app.route("/whoami")
        def whoami():
            from flask import request

            seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
            return ""

        return app

    for proxies, expected in ((0, ("127.0.0.1", "http")), (1, ("203.0.113.7", "https"))):
        runtime = Runtime(settings.replace(web=WebSettings(secret_key="k",
                                                           trusted_proxies=proxies)))
        runtime.sessions = session_factory
        app = remember(create_app(runtime, {"TESTING": True}))
        app.view_functions["whoami"].public = True
        app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7",
                                                  "X-Forwarded-Proto": "https"})
        assert (seen["addr"], seen["scheme"]) == expected
