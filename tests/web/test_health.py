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
    assert response.get_json() == {"status": "unavailable", "database": "unreachable",
                                   "time": "2026-11-28T10:00:00+00:00"}
