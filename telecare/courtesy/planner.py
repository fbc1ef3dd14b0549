"""The weekly plan: each enrollee's slot, the planned-call rows, and the load against capacity.

Three steps, each safe to repeat and to run in two processes at once:

1. `assign_slots` gives a weekday and a one-hour window to the active enrollees who have none,
   filling the emptiest hours of their mode (automated or operator) first, so no hour goes
   over the centre's capacity while another has room.
2. `plan_calls` writes one `planned_call` row per call of the coming days: the weekly courtesy
   call on each person's weekday, birthday greetings, and a reassurance call the day after a
   button, fall or help alarm. The unique (enrollee, kind, occasion) key and
   INSERT ... ON CONFLICT DO NOTHING make a second run (or a second planner) add nothing, and
   a call that exists in any state, cancelled included, is never made again.
3. `load` counts the planned calls per local day, hour and mode, against capacity.

It works on counts and set-based statements, never one ORM object per person: a city may
have a million enrollees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Date,
    Integer,
    String,
    Time,
    case,
    extract,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from telecare.courtesy.calendar import CallCalendar
from telecare.db import begin_writing
from telecare.models import (
    Alarm,
    AlarmKind,
    CallKind,
    CallMode,
    Enrollee,
    EnrolleeState,
    PlannedCall,
    PlannedCallState,
)
from telecare.models.base import UTCDateTime
from telecare.quiet import clock_time
from telecare.settings import Settings

# The alarms after which the person gets a reassurance call the next day: those the person
# raised (a press, a fall, a request for help), not a device's technical trouble.
REASSURING_ALARMS = (AlarmKind.BUTTON, AlarmKind.FALL, AlarmKind.HELP_REQUESTED)
# Enrollee ids per INSERT ... SELECT: a million people in a few dozen statements of bounded
# size, each a range of the primary key. Rows per multi-row INSERT: within SQLite's limit on
# bound parameters.
PLAN_BATCH = 50_000
VALUES_BATCH = 500

UNIQUE_KEY = ["enrollee_id", "kind", "occasion"]
PLANNED_COLUMNS = ["enrollee_id", "kind", "mode", "occasion", "planned_at", "state",
                   "next_attempt_at", "attempts", "created_at", "updated_at"]

Cell = tuple[int, int]  # (weekday 0 Monday .. 6 Sunday, local hour)


@dataclass(frozen=True)
class Overload:
    """An hour of the plan with more calls of one mode than the centre can make."""

    day: date
    hour: int
    mode: CallMode
    count: int
    capacity: int


@dataclass
class Load:
    """Planned calls (all but cancelled) per local day, hour and mode, against capacity."""

    first: date
    days: int
    hours: list[int]  # the calling hours, for display; counts may fall outside them
    capacity: dict[CallMode, int]
    counts: Counter = field(default_factory=Counter)  # (day, hour, mode) -> calls

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def count(self, day: date, hour: int, mode: CallMode) -> int:
        return self.counts[(day, hour, mode)]

    def total(self, mode: CallMode | None = None) -> int:
        return sum(n for (_day, _hour, m), n in self.counts.items() if mode in (None, m))

    def shown_hours(self) -> list[int]:
        """The calling hours, and any other hour that has calls (a setting changed since)."""
        return sorted(set(self.hours) | {hour for (_day, hour, _mode) in self.counts})

    def over_capacity(self) -> list[Overload]:
        return [Overload(day, hour, mode, count, self.capacity[mode])
                for (day, hour, mode), count in sorted(self.counts.items())
                if count > self.capacity[mode]]


@dataclass
class PlanReport:
    created: dict[CallKind, int]
    load: Load

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def capacity(settings: Settings) -> dict[CallMode, int]:
    """Calls the centre can make in one hour, by mode."""
    return {CallMode.AUTOMATED: settings.calls.automated_per_hour,
            CallMode.OPERATOR: settings.calls.operator_per_hour}


def calling_hours(calendar: CallCalendar) -> list[int]:
    """The local hours whose whole hour lies in the calling day: the windows we hand out."""
    first = calendar.day_start.hour + (1 if calendar.day_start.minute else 0)
    last = calendar.day_end.hour - 1  # its window ends by day_end
    hours = list(range(first, last + 1))
    # A calling day without one whole hour in it: the hour it starts in (rung at day_start),
    # never 23, whose window would end at 24:00.
    return hours or [min(calendar.day_start.hour, 22)]


# --- 1. slots ---------------------------------------------------------------------------

def assign_slots(session: Session, settings: Settings, calendar: CallCalendar,
                 now: datetime) -> int:
    """Give a weekday and a one-hour window to each active enrollee without one; returns how
    many were given one. Each goes to the least loaded hour of the week for their mode; a
    person whose weekday was chosen but not the time, to the least loaded hour of that day."""
    begin_writing(session)
    hours = calling_hours(calendar)
    loads = slot_loads(session, calendar)
    assigned = 0
    for mode in CallMode:
        for weekday, ids in _windowless_ids(session, mode).items():
            # They were counted at day_start: place them afresh within their own day.
            loads[(mode, *ringing_cell(calendar, weekday, None))] -= len(ids)
            day_load = {(weekday, hour): loads[(mode, weekday, hour)] for hour in hours}
            start = 0
            for cell, share in spread(day_load, len(ids)).items():
                assigned += _give_slot(session, mode, ids[start], ids[start + share - 1], cell,
                                       now, weekday=weekday)
                loads[(mode, *cell)] += share
                start += share
    for mode in CallMode:
        ids = _unslotted_ids(session, mode)
        mode_load = {(weekday, hour): loads[(mode, weekday, hour)]
                     for weekday in range(7) for hour in hours}
        start = 0
        for cell, share in spread(mode_load, len(ids)).items():
            assigned += _give_slot(session, mode, ids[start], ids[start + share - 1], cell, now)
            start += share
    return assigned


def slot_loads(session: Session, calendar: CallCalendar) -> Counter:
    """Active enrollees per (mode, weekday, hour) their weekly call rings in."""
    rows = session.execute(
        select(Enrollee.call_mode, Enrollee.call_weekday, Enrollee.call_window_start,
               func.count())
        .where(Enrollee.state == EnrolleeState.ACTIVE, Enrollee.call_weekday.is_not(None))
        .group_by(Enrollee.call_mode, Enrollee.call_weekday, Enrollee.call_window_start))
    loads: Counter = Counter()
    for mode, weekday, window_start, count in rows:
        loads[(mode, *ringing_cell(calendar, weekday, window_start))] += count
    return loads


def ringing_cell(calendar: CallCalendar, weekday: int, window_start: time | None) -> Cell:
    """The weekday and hour a weekly slot rings in, as `CallCalendar.in_daytime` moves it:
    no window means day_start; before the day, at day_start; after it, the next morning."""
    wall = window_start or calendar.day_start
    if wall < calendar.day_start:
        return weekday, calendar.day_start.hour
    if wall >= calendar.day_end:
        return (weekday + 1) % 7, calendar.day_start.hour
    return weekday, wall.hour


def spread(loads: dict[Cell, int], newcomers: int) -> dict[Cell, int]:
    """How many of `newcomers` each cell takes, filling the emptiest first (water-filling).

    The fullest cell ends as empty as it can be, so no cell passes a capacity while another
    is below it. Ties go to the earlier weekday and hour, so the plan is reproducible.
    """
    if newcomers <= 0 or not loads:
        return {}
    level = _fill_level(sorted(loads.values()), newcomers)
    shares = {cell: max(0, level - loads[cell]) for cell in sorted(loads)}
    left = newcomers - sum(shares.values())
    for cell in shares:  # the remainder: one more each in the first cells now at the level
        if left == 0:
            break
        if loads[cell] <= level:
            shares[cell] += 1
            left -= 1
    return {cell: share for cell, share in shares.items() if share}


def _fill_level(sorted_loads: list[int], newcomers: int) -> int:
    """The highest level every cell can be filled to with at most `newcomers` (binary search)."""
    def needed(level: int) -> int:
        return sum(level - load for load in sorted_loads if load < level)

    low, high = sorted_loads[0], sorted_loads[0] + newcomers
    while low < high:
        middle = (low + high + 1) // 2
        if needed(middle) <= newcomers:
            low = middle
        else:
            high = middle - 1
    return low


def _unslotted_ids(session: Session, mode: CallMode) -> list[int]:
    """The active enrollees of `mode` without a weekday, by id."""
    return list(session.scalars(
        select(Enrollee.id)
        .where(Enrollee.state == EnrolleeState.ACTIVE, Enrollee.call_weekday.is_(None),
               Enrollee.call_mode == mode)
        .order_by(Enrollee.id)))


def _windowless_ids(session: Session, mode: CallMode) -> dict[int, list[int]]:
    """The active enrollees of `mode` with a weekday but no time window, by weekday and id."""
    found: dict[int, list[int]] = {}
    for weekday, enrollee_id in session.execute(
            select(Enrollee.call_weekday, Enrollee.id)
            .where(Enrollee.state == EnrolleeState.ACTIVE, Enrollee.call_mode == mode,
                   Enrollee.call_weekday.is_not(None), Enrollee.call_window_start.is_(None))
            .order_by(Enrollee.call_weekday, Enrollee.id)):
        found.setdefault(weekday, []).append(enrollee_id)
    return found


def _give_slot(session: Session, mode: CallMode, first_id: int, last_id: int, cell: Cell,
               now: datetime, weekday: int | None = None) -> int:
    """Give `cell` to the newcomers of `mode` with ids from first_id to last_id: those
    without a weekday, or (`weekday` given) those of that weekday without a window.

    One statement over the id range, not one per person. The condition again: a social
    worker (or a second planner) who chose a slot meanwhile keeps it; someone left without
    one meanwhile inside the range joins this cell, a few more than counted.
    """
    unset = (Enrollee.call_weekday.is_(None) if weekday is None else
             (Enrollee.call_weekday == weekday) & Enrollee.call_window_start.is_(None))
    weekday, hour = cell
    result = session.execute(
        update(Enrollee)
        .where(Enrollee.id.between(first_id, last_id), Enrollee.call_mode == mode,
               Enrollee.state == EnrolleeState.ACTIVE, unset)
        .values(call_weekday=weekday, call_window_start=time(hour),
                call_window_end=time(hour + 1), updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


# --- 2. planned calls --------------------------------------------------------------------

def plan_calls(session: Session, settings: Settings, calendar: CallCalendar, first: date,
               days: int, now: datetime) -> PlanReport:
    """Create the planned calls of the local days [first, first + days); returns what was
    created and the load of those days. Calls that exist already, in any state, are kept."""
    if days < 1:
        raise ValueError(f"days: expected at least 1, got {days}")
    begin_writing(session)
    created = dict.fromkeys(CallKind, 0)
    created[CallKind.COURTESY] = _plan_courtesy(session, calendar, first, days, now)
    if settings.calls.birthday:
        created[CallKind.BIRTHDAY] = _plan_birthdays(
            session, calendar, clock_time(settings.calls.birthday_time), first, days, now)
    if settings.calls.reassurance:
        created[CallKind.REASSURANCE] = _plan_reassurance(
            session, calendar, clock_time(settings.calls.reassurance_time), first, days, now)
    return PlanReport(created, load(session, settings, calendar, first, days))


def _plan_courtesy(session: Session, calendar: CallCalendar, first: date, days: int,
                   now: datetime) -> int:
    windows = _windows_by_weekday(session)
    lowest, highest = session.execute(
        select(func.min(Enrollee.id), func.max(Enrollee.id))).one()
    created = 0
    if lowest is None:
        return 0
    for day in (first + timedelta(days=n) for n in range(days)):
        weekday_windows = windows.get(day.weekday())
        if not weekday_windows:
            continue
        # One UTC time per window: the calendar's holiday rule and clock changes, worked
        # out once per day and window rather than once per person.
        rings = _case_by_window(calendar, day, weekday_windows)
        known_window = Enrollee.call_window_start.in_(
            [w for w in weekday_windows if w is not None])
        if None in weekday_windows:
            known_window = known_window | Enrollee.call_window_start.is_(None)
        for start in range(lowest, highest + 1, PLAN_BATCH):
            rows = (
                select(Enrollee.id, _text(CallKind.COURTESY), Enrollee.call_mode,
                       literal(day, Date()), rings, _text(PlannedCallState.PLANNED), rings,
                       literal(0, Integer()), _moment(now), _moment(now))
                .where(Enrollee.state == EnrolleeState.ACTIVE,
                       Enrollee.call_weekday == day.weekday(), known_window,
                       Enrollee.id >= start, Enrollee.id < start + PLAN_BATCH)
                # The same order in every planner: two of them wait on each other's rows
                # instead of deadlocking.
                .order_by(Enrollee.id))
            created += _insert_new(session, rows)
    return created


def _windows_by_weekday(session: Session) -> dict[int, set[time | None]]:
    """The distinct window starts the active enrollees of each weekday have."""
    rows = session.execute(
        select(Enrollee.call_weekday, Enrollee.call_window_start)
        .where(Enrollee.state == EnrolleeState.ACTIVE, Enrollee.call_weekday.is_not(None))
        .distinct())
    windows: dict[int, set[time | None]] = {}
    for weekday, window_start in rows:
        windows.setdefault(weekday, set()).add(window_start)
    return windows


def _case_by_window(calendar: CallCalendar, day: date, windows: Iterable[time | None]):
    """planned_at for a person whose slot is on `day`, by their window start, as SQL."""
    default = _moment(calendar.slot(day, calendar.day_start))
    whens = [(Enrollee.call_window_start == literal(w, Time()), _moment(calendar.slot(day, w)))
             for w in sorted(w for w in windows if w is not None)]
    return case(*whens, else_=default) if whens else default


def _plan_birthdays(session: Session, calendar: CallCalendar, wall: time, first: date,
                    days: int, now: datetime) -> int:
    # The birthday as month * 100 + day (1130 for 30 November), the same in both databases.
    birthday = (extract("month", Enrollee.birth_date) * 100
                + extract("day", Enrollee.birth_date))
    occasions: dict[int, date] = {}
    for day in (first + timedelta(days=n) for n in range(days)):
        occasions[day.month * 100 + day.day] = day
        if (day.month, day.day) == (2, 28) and not _leap(day.year):
            occasions[229] = day  # born on 29 February: greeted on the 28th
    # A greeting belongs on the birthday itself: the holiday rule does not move it.
    on_day = case(*((birthday == key, literal(day, Date())) for key, day in occasions.items()))
    rings = case(*((birthday == key, _moment(calendar.in_daytime(calendar.at(day, wall))))
                   for key, day in occasions.items()))
    rows = (select(Enrollee.id, _text(CallKind.BIRTHDAY), _text(CallMode.AUTOMATED), on_day,
                   rings, _text(PlannedCallState.PLANNED), rings, literal(0, Integer()),
                   _moment(now), _moment(now))
            .where(Enrollee.state == EnrolleeState.ACTIVE, birthday.in_(list(occasions)))
            .order_by(Enrollee.id))
    return _insert_new(session, rows)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _plan_reassurance(session: Session, calendar: CallCalendar, wall: time, first: date,
                      days: int, now: datetime) -> int:
    """A call the day after each button, fall or help alarm: alarms of the local days
    [first - 1, first + days - 1), so planning from today covers an alarm of yesterday."""
    since = calendar.at(first - timedelta(days=1), time(0))
    until = calendar.at(first + timedelta(days=days - 1), time(0))
    alarms = session.execute(
        select(Alarm.enrollee_id, Alarm.opened_at)
        .join(Enrollee, Enrollee.id == Alarm.enrollee_id)
        .where(Alarm.kind.in_(REASSURING_ALARMS), Alarm.opened_at >= since,
               Alarm.opened_at < until, Enrollee.state == EnrolleeState.ACTIVE))
    occasions = sorted({(enrollee_id, calendar.local(opened_at).date() + timedelta(days=1))
                        for enrollee_id, opened_at in alarms})
    # Reassurance does not wait for the end of a holiday: it rings the day after the alarm.
    rows = [{"enrollee_id": enrollee_id, "kind": CallKind.REASSURANCE,
             "mode": CallMode.OPERATOR, "occasion": day,
             "planned_at": calendar.in_daytime(calendar.at(day, wall)),
             "state": PlannedCallState.PLANNED, "attempts": 0,
             "created_at": now, "updated_at": now} for enrollee_id, day in occasions]
    for row in rows:
        row["next_attempt_at"] = row["planned_at"]
    created = 0
    for start in range(0, len(rows), VALUES_BATCH):
        statement = _dialect_insert(session).values(rows[start:start + VALUES_BATCH])
        created += _inserted(session, statement)
    return created


def _insert_new(session: Session, rows) -> int:
    """INSERT the selected rows into planned_call, skipping those that exist; how many new."""
    return _inserted(session, _dialect_insert(session).from_select(PLANNED_COLUMNS, rows))


def _inserted(session: Session, statement) -> int:
    """Run an INSERT skipping the calls that exist; how many rows it added."""
    statement = statement.on_conflict_do_nothing(index_elements=UNIQUE_KEY)
    # SQLAlchemy keeps an INSERT's row count only when asked to.
    return session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def _dialect_insert(session: Session):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(PlannedCall.__table__)
    if name == "sqlite":
        return sqlite.insert(PlannedCall.__table__)
    raise NotImplementedError(f"database {name}: the planner supports SQLite and PostgreSQL")


def _moment(value: datetime):
    return literal(value, UTCDateTime())


def _text(value: str):
    return literal(str(value), String())


# --- 3. load -------------------------------------------------------------------------------

def load(session: Session, settings: Settings, calendar: CallCalendar, first: date,
         days: int) -> Load:
    """Planned calls of every state but cancelled ringing in the local days [first,
    first + days), per local day, hour and mode."""
    since = calendar.at(first, time(0))
    until = calendar.at(first + timedelta(days=days), time(0))
    rows = session.execute(
        select(PlannedCall.planned_at, PlannedCall.mode, func.count())
        .where(PlannedCall.planned_at >= since, PlannedCall.planned_at < until,
               PlannedCall.state != PlannedCallState.CANCELLED)
        .group_by(PlannedCall.planned_at, PlannedCall.mode))
    result = Load(first, days, calling_hours(calendar), capacity(settings))
    for planned_at, mode, count in rows:
        local = calendar.local(planned_at)
        result.counts[(local.date(), local.hour, mode)] += count
    return result


# --- ended enrolments ------------------------------------------------------------------------

def cancel_for_ended(session: Session, now: datetime) -> int:
    """Cancel the calls not yet made (state planned) of enrollees no longer active (ended or
    suspended); returns how many. The bulk form of `attempts.cancel`."""
    begin_writing(session)
    inactive = select(Enrollee.id).where(Enrollee.state != EnrolleeState.ACTIVE)
    result = session.execute(
        update(PlannedCall)
        .where(PlannedCall.state == PlannedCallState.PLANNED,
               PlannedCall.enrollee_id.in_(inactive))
        .values(state=PlannedCallState.CANCELLED, next_attempt_at=None, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


def unslotted(session: Session) -> int:
    """Active enrollees still without a weekday: the next planning gives them one."""
    return session.scalar(select(func.count()).select_from(Enrollee).where(
        Enrollee.state == EnrolleeState.ACTIVE, Enrollee.call_weekday.is_(None)))
