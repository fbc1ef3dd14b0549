"""One SQLAlchemy session per request: opened on first use, committed by the view, closed after."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from telecare.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["telecare.runtime"]


def db() -> Session:
    if "db" not in g:
        g.db = runtime().sessions()
    return g.db


def now():
    return runtime().clock.now()


def today():
    """Today in the service's zone: just after midnight in Rome is still yesterday in UTC."""
    return now().astimezone(runtime().settings.zone).date()
