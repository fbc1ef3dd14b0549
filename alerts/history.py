"""Past alarms with realistic answer times, for the demo, the KPI tests and the bench.

Most are taken in charge within a minute, a few between one and three minutes, a few later;
most by an operator in the console, some by a contact (a call or an SMS) or by the person on
the call-back. They are closed, so none of them reaches the live queue, and they carry
figures only: no timeline, no notifications.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from telecare.models import Alarm, AlarmKind, AlarmState, Outcome, Severity

NOTE = "seeded history"
# (share, lowest s, highest s): a service a little short of the standard, as Milan's was.
BANDS = ((0.955, 8, 60), (0.035, 61, 180), (0.010, 181, 900))
# How people other than operators took charge, and how often.
VIAS = (("console", 0.85), ("voice", 0.08), ("sms", 0.04), ("enrollee", 0.03))
KINDS = ((AlarmKind.BUTTON, Severity.CRITICAL, 0.8), (AlarmKind.FALL, Severity.CRITICAL, 0.2))


@dataclass(frozen=True)
class Seeded:
    opened_at: datetime
    seconds: int
    by_id: int | None
    via: str


def plan(rng: random.Random, first: datetime, days: int, per_day: int,
         operator_ids: list[int]) -> list[Seeded]:
    """What to seed: per_day alarms a day from `first`, spread over each day."""
    if not operator_ids:
        raise ValueError("at least one operator is needed to take the calls")
    made = []
    for day in range(days):
        for _ in range(per_day):
            opened = first + timedelta(days=day, seconds=rng.randrange(86_400))
            band = rng.choices(BANDS, weights=[b[0] for b in BANDS])[0]
            via = rng.choices([v for v, _ in VIAS], weights=[w for _, w in VIAS])[0]
            made.append(Seeded(opened, rng.randint(band[1], band[2]),
                               rng.choice(operator_ids) if via == "console" else None, via))
    return made


def seed(session: Session, alarms: list[Seeded], enrollee_ids: list[int] | None = None,
         rng: random.Random | None = None, batch: int = 5_000) -> int:
    """Write the planned alarms, closed, in batches; returns how many."""
    rng = rng or random.Random(0)
    rows = []
    for n, item in enumerate(alarms):
        kind, severity, _ = rng.choices(KINDS, weights=[k[2] for k in KINDS])[0]
        acked = item.opened_at + timedelta(seconds=item.seconds)
        closed = acked + timedelta(minutes=rng.randint(3, 40))
        rows.append({
            "enrollee_id": enrollee_ids[n % len(enrollee_ids)] if enrollee_ids else None,
            "kind": kind, "severity": severity, "state": AlarmState.RESOLVED,
            "opened_at": item.opened_at, "last_event_at": closed,
            "acknowledged_at": acked, "first_acknowledged_at": acked,
            "acknowledged_by_id": item.by_id, "acknowledged_via": item.via,
            "resolved_at": closed, "resolved_by_id": item.by_id,
            "outcome": rng.choice([Outcome.FALSE_ALARM, Outcome.RESOLVED_BY_PHONE,
                                   Outcome.CONTACT_ATTENDED]),
            "outcome_note": NOTE, "next_step_at": None,
        })
        if len(rows) >= batch:
            session.execute(insert(Alarm), rows)
            rows = []
    if rows:
        session.execute(insert(Alarm), rows)
    return len(alarms)
