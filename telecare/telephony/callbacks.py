"""Replay protection: a Twilio callback is applied once, whatever Twilio resends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from telecare.db import begin_writing, session_scope
from telecare.models import NumberStanding, ProcessedCallback


@contextmanager
def writing(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with session_scope(sessions) as session:
        begin_writing(session)
        yield session


def first_time(session: Session, key: str, now: datetime) -> bool:
    """Record `key` as processed; False if it already was (a replay, to be ignored)."""
    if session.get(ProcessedCallback, key) is not None:
        return False
    try:
        # A savepoint: Twilio may deliver the same callback twice at once to two workers,
        # and the primary key lets only one of them through.
        with session.begin_nested():
            session.add(ProcessedCallback(key=key[:120], at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def standing(session: Session, number: str, now: datetime) -> NumberStanding:
    row = session.get(NumberStanding, number)
    if row is None:
        row = NumberStanding(number=number, unsubscribed=False, permanent_error="",
                             updated_at=now)
        session.add(row)
    return row


def unusable(session: Session, number: str) -> str:
    """Why a number must not be used, or "" if it may."""
    row = session.get(NumberStanding, number)
    if row is None:
        return ""
    return row.permanent_error
