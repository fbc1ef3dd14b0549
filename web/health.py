"""`/healthz`: is the service up and can it reach its database."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from sqlalchemy import text

from web.access import public
from web.db import db, now

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    reachable = _database_reachable()
    body = {"status": "ok" if reachable else "unavailable",
            "database": "reachable" if reachable else "unreachable",
            "time": now().isoformat()}
    return jsonify(body), 200 if reachable else 503


def _database_reachable() -> bool:
    # Through the request's session, so it checks the very connection pages would use.
    try:
        db().execute(text("SELECT 1"))
        return True
    except Exception:
        current_app.logger.exception("healthz: the database is unreachable")
        session = g.pop("db", None)
        if session is not None:
            session.close()
        return False
