"""The live queue's server-sent events: "something changed", read cheaply once a second.

Every change to an alarm writes a timeline row, so the newest AlarmEvent id (with the newest
Alarm id, to tell a new alarm from a step of an old one) is all a page needs to know it must
refresh. Each poll opens and closes its own session: a stream holds no connection while it
sleeps. A stream lasts a few minutes and then ends; the browser's EventSource reconnects by
itself, so a server thread is never held for ever by a tab nobody looks at.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from telecare.models import Alarm, AlarmEvent

log = logging.getLogger(__name__)

RETRY_MS = 2000  # how soon a browser reconnects after a stream ends
BUSY_RETRY_MS = 30_000  # ... and after being told every stream slot is taken


def marker(session: Session) -> dict:
    """Where the alarms stand: two primary-key maxima, one round trip."""
    events, alarms = session.execute(select(
        select(func.max(AlarmEvent.id)).scalar_subquery(),
        select(func.max(Alarm.id)).scalar_subquery())).one()
    return {"events": events or 0, "alarm": alarms or 0}


def events(sessions: sessionmaker[Session], *, poll_s: float, lifetime_s: float,
           gone: Callable[[], bool] = lambda: False,
           slots: threading.BoundedSemaphore | None = None) -> Iterator[str]:
    """The stream's text: an `alarms` event now and after each change, a comment otherwise.

    The comment between events is what lets the server notice a closed tab: writing to a
    socket the browser has left fails, and the server then closes this generator. The slot
    is taken and given back inside the generator, so a stream never started holds none.
    """
    if slots is not None and not slots.acquire(blocking=False):
        # Every slot is taken: come back later (an error status would stop EventSource).
        yield f"retry: {BUSY_RETRY_MS}\n\n"
        return
    try:
        yield f"retry: {RETRY_MS}\n\n"
        seen = None
        deadline = time.monotonic() + lifetime_s
        while time.monotonic() < deadline and not gone():
            try:
                with sessions() as session:
                    current = marker(session)
            except SQLAlchemyError:
                log.warning("alarm stream: the database did not answer; trying again",
                            exc_info=True)
                current = seen
            if current != seen and current is not None:
                seen = current
                yield f"event: alarms\ndata: {json.dumps(current)}\n\n"
            else:
                yield ":\n\n"
            time.sleep(poll_s)
    finally:
        if slots is not None:
            slots.release()

