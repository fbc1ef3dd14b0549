"""One SQLAlchemy session per request: opened on first use, committed by the view, closed after."""

from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session

from telecare.db import begin_writing
from telecare.runtime import Runtime

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runtime() -> Runtime:
    return current_app.extensions["telecare.runtime"]


def db() -> Session:
    if "db" not in g:
        g.db = runtime().sessions()
        if request.method not in READING_METHODS:
            # A post reads, then writes, while the bridge and the escalation engine write
            # too. On SQLite a reader cannot become a writer once another has written
            # ("database is locked" at once), so whatever may write begins as a writer.
            begin_writing(g.db)
    return g.db


def writing() -> Session:
    """The request's session, now as a writer: for a page that reads, then records a view.

    Its reads end first. On SQLite a transaction that has read cannot start writing once
    another process (the bridge, the engine) has written meanwhile: it fails at once with
    "database is locked", where a writer's BEGIN waits its turn.
    """
    session = db()
    if request.method in READING_METHODS:
        session.commit()
        begin_writing(session)
    return session


def now():
    return runtime().clock.now()


def today():
    """Today in the service's zone: just after midnight in Rome is still yesterday in UTC."""
    return now().astimezone(runtime().settings.zone).date()
