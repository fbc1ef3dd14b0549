"""Answer-time figures: how fast someone took charge of each alarm, against the standard.

The standard for social alarms (EN 50134-7, as the Telecare Services Association applies it):
97.5 % of alarm calls answered within 60 s and 99 % within 180 s. Time to acknowledge is
first_acknowledged_at - opened_at; an alarm nobody has acknowledged yet counts as not within
either. Median and 90th percentile are of the acknowledged alarms only.

The database works out each alarm's seconds (SQLite and PostgreSQL spell that differently);
the grouping by local day and the percentiles are done here on plain numbers, because
neither a time zone's days nor percentiles can be written once for both databases.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Float, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from telecare.models import Alarm, AlarmKind, User
from telecare.models.base import UTCDateTime

TARGET_60 = 0.975
TARGET_180 = 0.99
# The kinds the standard measures: a person asking for help. Gentle ladders (a device
# offline, a flat battery) wait minutes on purpose and would drown the figure.
ALARM_CALLS = (AlarmKind.BUTTON, AlarmKind.FALL, AlarmKind.HELP_REQUESTED)
MAX_DAYS = 366

# Who took charge, when it was not a console user: the row keys of the per-operator table.
CONTACT_VOICE, CONTACT_SMS, ENROLLEE = "contact_voice", "contact_sms", "enrollee"
UNACKNOWLEDGED, OTHER = "unacknowledged", "other"
_BY_VIA = {"voice": CONTACT_VOICE, "sms": CONTACT_SMS, "enrollee": ENROLLEE}


class seconds_between(FunctionElement):  # noqa: N801 - an SQL function, named like one
    """later - earlier in seconds, as a float, on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_postgresql(element, compiler, **kw):
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    # julianday is a float of days: rounded to the millisecond, 60.0 s stays 60.0 s.
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


@dataclass(frozen=True)
class Figures:
    count: int
    acknowledged: int
    within_60: int
    within_180: int
    median_s: float | None
    p90_s: float | None

    @property
    def share_60(self) -> float | None:
        return self.within_60 / self.count if self.count else None

    @property
    def share_180(self) -> float | None:
        return self.within_180 / self.count if self.count else None

    @property
    def meets_60(self) -> bool | None:
        return None if not self.count else self.share_60 >= TARGET_60

    @property
    def meets_180(self) -> bool | None:
        return None if not self.count else self.share_180 >= TARGET_180


@dataclass(frozen=True)
class Who:
    key: str  # "user:<id>" or one of the constants above
    user_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class Report:
    first_day: date
    last_day: date
    kinds: tuple[str, ...]
    total: Figures
    days: list[tuple[date, Figures]]
    by_who: list[tuple[Who, Figures]]


def summarise(times: list[float | None]) -> Figures:
    """Figures of a group of alarms from their times to acknowledge (None: not yet)."""
    answered = sorted(t for t in times if t is not None)
    median = p90 = None
    if answered:
        middle = len(answered) // 2
        median = answered[middle] if len(answered) % 2 else (
            answered[middle - 1] + answered[middle]) / 2
        p90 = answered[math.ceil(0.9 * len(answered)) - 1]  # nearest rank: a real alarm's time
    return Figures(len(times), len(answered), bisect.bisect_right(answered, 60.0),
                   bisect.bisect_right(answered, 180.0), median, p90)


def _rows(session: Session, since: datetime, until: datetime, kinds) -> list[tuple]:
    """(seconds after `since` it opened, seconds to acknowledge or None, by_id, via)."""
    origin = literal(since, UTCDateTime())  # stored as UTC, whatever zone `since` is in
    query = (select(seconds_between(origin, Alarm.opened_at),
                    seconds_between(Alarm.opened_at, Alarm.first_acknowledged_at),
                    Alarm.acknowledged_by_id, Alarm.acknowledged_via)
             .where(Alarm.opened_at >= since, Alarm.opened_at < until))
    if kinds:
        query = query.where(Alarm.kind.in_(list(kinds)))
    return session.execute(query).all()


def _who_key(by_id: int | None, via: str, seconds: float | None) -> str:
    if seconds is None:
        return UNACKNOWLEDGED
    if by_id is not None:
        return f"user:{by_id}"
    return _BY_VIA.get(via, OTHER)


def day_starts(zone: ZoneInfo, first_day: date, last_day: date) -> list[datetime]:
    """Each local midnight from first_day to the one after last_day, DST-correct."""
    count = (last_day - first_day).days + 2
    return [datetime.combine(first_day + timedelta(days=n), time(), tzinfo=zone)
            for n in range(count)]


def report(session: Session, zone: ZoneInfo, first_day: date, last_day: date,
           kinds=ALARM_CALLS) -> Report:
    """The figures of alarms opened from first_day to last_day (local days, both included)."""
    if not first_day <= last_day or (last_day - first_day).days >= MAX_DAYS:
        raise ValueError(f"a range of 1 to {MAX_DAYS} days is needed")
    starts = day_starts(zone, first_day, last_day)
    offsets = [(s - starts[0]).total_seconds() for s in starts]
    per_day: dict[int, list] = defaultdict(list)
    per_who: dict[str, list] = defaultdict(list)
    everything = []
    for opened, seconds, by_id, via in _rows(session, starts[0], starts[-1], kinds):
        seconds = None if seconds is None else float(seconds)
        per_day[bisect.bisect_right(offsets, float(opened)) - 1].append(seconds)
        per_who[_who_key(by_id, via, seconds)].append(seconds)
        everything.append(seconds)
    days = [(first_day + timedelta(days=n), summarise(per_day.get(n, [])))
            for n in range(len(starts) - 1)]
    return Report(first_day, last_day, tuple(str(k) for k in kinds or ()),
                  summarise(everything), days, _by_who(session, per_who))


def _by_who(session: Session, groups: dict[str, list]) -> list[tuple[Who, Figures]]:
    ids = [int(key[5:]) for key in groups if key.startswith("user:")]
    names = dict(session.execute(select(User.id, User.display_name)
                                 .where(User.id.in_(ids))).all()) if ids else {}
    people = sorted((Who(f"user:{i}", i, names.get(i, f"#{i}")) for i in ids),
                    key=lambda w: w.name.lower())
    others = [Who(key) for key in (CONTACT_VOICE, CONTACT_SMS, ENROLLEE, OTHER, UNACKNOWLEDGED)
              if key in groups]
    return [(who, summarise(groups[who.key])) for who in people + others]


def window(session: Session, since: datetime, until: datetime,
           kinds=ALARM_CALLS) -> tuple[Figures, list[float]]:
    """The figures of alarms opened in [since, until), and their answered times."""
    times = [None if s is None else float(s) for _, s, _, _ in
             _rows(session, since, until, kinds)]
    return summarise(times), sorted(t for t in times if t is not None)
