"""Benchmark: planning one week of courtesy calls for 1,000,000 enrollees.

    .venv/bin/python bench/courtesy_plan.py [--database-url URL] [--enrollees N]

The database is filled, in a separate process, with N active enrollees: half with a weekly
slot spread over the week's days and hours, half without (so `assign_slots` has half a
million people to place), one in 25 called by an operator, birthdays spread over the year,
and a button alarm the day before the week for one in 500. Then this process times what
`telecare calls plan` does: `assign_slots`, then `plan_calls` for the 7 days from --from
(courtesy, birthday and reassurance calls, and the week's load), each committed.

Targets: under 60 s, and under 2 GB of peak memory: the largest resident set of this
process (`ru_maxrss`), which covers Python, the libraries, the planner's own data and, on
SQLite, the database engine running inside the process; not the PostgreSQL server's.
Baseline: one bare INSERT ... SELECT of as many courtesy rows (no calendar, no conflict
check, one statement), rolled back: what writing the rows costs the database alone.
A given database is EMPTIED first; a PostgreSQL database that does not exist is created.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from sqlalchemy import Integer, func, insert, literal, select, text
from sqlalchemy.engine import make_url

from telecare.courtesy import planner
from telecare.courtesy.calendar import CallCalendar
from telecare.db import make_engine, make_session_factory
from telecare.models import Alarm, AlarmKind, CallKind, Enrollee, PlannedCall, Severity
from telecare.settings import CallsSettings, DatabaseSettings, Settings

TIME_TARGET_S = 60
MEMORY_TARGET_BYTES = 2 * 1024**3
CALLING_HOURS = range(9, 20)  # the default calling day, 09:00-20:00
OPERATOR_EVERY = 25
ALARM_EVERY = 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (emptied first); default: a new "
                                               "SQLite file in a temporary folder")
    parser.add_argument("--enrollees", type=int, default=1_000_000)
    parser.add_argument("--from", dest="first", type=date.fromisoformat,
                        default=date(2026, 11, 30), help="the week's first day (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="telecare-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        return run(url, args)


def run(url: str, args) -> int:
    create_database_if_missing(url)
    started = time.perf_counter()
    # Filled by another process, so this one's peak memory is the planning's alone.
    filler = multiprocessing.get_context("spawn").Process(
        target=fill, args=(url, args.enrollees, args.first))
    filler.start()
    filler.join()
    if filler.exitcode != 0:
        print("filling the database failed")
        return 1
    print(f"filled {args.enrollees:,} enrollees in {time.perf_counter() - started:.1f} s")

    # A centre sized for its people: a quarter more than the weekly calls need per hour, the
    # room for the day's birthday greetings (all at 11:00) and reassurance calls (at 10:00).
    weekly_per_hour = args.enrollees / (7 * len(CALLING_HOURS))
    calls = CallsSettings(automated_per_hour=round(weekly_per_hour * 1.25),
                          operator_per_hour=round(weekly_per_hour / OPERATOR_EVERY * 1.25))
    settings = Settings(database=DatabaseSettings(url=url), calls=calls)
    calendar = CallCalendar.from_settings(settings)
    engine = make_engine(url)
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    sessions = make_session_factory(engine)
    before = peak_memory_bytes()
    now = datetime.now(UTC)

    started = time.perf_counter()
    with sessions() as session:
        assigned = planner.assign_slots(session, settings, calendar, now)
        session.commit()
    assign_s = time.perf_counter() - started
    with sessions() as session:
        report = planner.plan_calls(session, settings, calendar, args.first, 7, now)
        session.commit()
    total_s = time.perf_counter() - started
    plan_s = total_s - assign_s
    peak = peak_memory_bytes()

    with sessions() as session:
        again_started = time.perf_counter()
        again = planner.plan_calls(session, settings, calendar, args.first, 7, now)
        session.commit()
        again_s = time.perf_counter() - again_started
    baseline_s = bare_insert_seconds(sessions, report.created[CallKind.COURTESY], args.first)
    engine.dispose()

    created = ", ".join(f"{n:,} {kind.value}" for kind, n in report.created.items())
    print(f"assign_slots: {assigned:,} enrollees given a slot in {assign_s:.1f} s")
    print(f"plan_calls, one week: created {created} in {plan_s:.1f} s; "
          f"{report.load.total():,} calls in the week's load; capacity per hour "
          f"{calls.automated_per_hour:,} automated, {calls.operator_per_hour:,} operator")
    for hour in report.load.over_capacity():
        print(f"    over capacity: {hour.day} {hour.hour:02d}:00 {hour.mode.value} "
              f"{hour.count:,} > {hour.capacity:,}")
    print(f"baseline, one bare INSERT ... SELECT of {report.created[CallKind.COURTESY]:,} rows "
          f"(rolled back): {baseline_s:.1f} s; plan_calls took {plan_s / baseline_s:.1f} x "
          "baseline")
    print(f"planning again: {again.total_created:,} created in {again_s:.1f} s")
    time_met = total_s < TIME_TARGET_S
    memory_met = peak < MEMORY_TARGET_BYTES
    print(f"time: {total_s:.1f} s (target < {TIME_TARGET_S} s): "
          f"{'target met' if time_met else 'target missed'}")
    print(f"peak memory of this process (ru_maxrss): {peak / 1024**2:,.0f} MiB, of which "
          f"{before / 1024**2:,.0f} MiB before planning (target < 2 GiB): "
          f"{'target met' if memory_met else 'target missed'}")
    ok = time_met and memory_met and again.total_created == 0 and assigned == args.enrollees // 2
    return 0 if ok else 1


def peak_memory_bytes() -> int:
    """The largest resident set this process has had (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def bare_insert_seconds(sessions, rows: int, first: date) -> float:
    """The same number of courtesy rows written by one plain INSERT ... SELECT, undone."""
    at = datetime.combine(first, clock(10), tzinfo=UTC)
    far = first + timedelta(days=3650)  # an occasion no planned call has: no conflict
    columns = select(Enrollee.id, literal(CallKind.COURTESY.value), Enrollee.call_mode,
                     literal(far), literal(at, PlannedCall.planned_at.type),
                     literal("planned"), literal(at, PlannedCall.planned_at.type),
                     literal(0, Integer()), literal(at, PlannedCall.planned_at.type),
                     literal(at, PlannedCall.planned_at.type)).where(
        Enrollee.call_weekday.is_not(None)).limit(rows)
    with sessions() as session:
        started = time.perf_counter()
        session.execute(insert(PlannedCall.__table__).from_select(planner.PLANNED_COLUMNS,
                                                                  columns))
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed


def create_database_if_missing(url: str) -> None:
    """A PostgreSQL URL may name a database not made yet (`bench`): make it."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    server = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with server.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": parsed.database})
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    finally:
        server.dispose()


# The filling process --------------------------------------------------------------------

def fill(url: str, count: int, first: date, batch: int = 20_000) -> None:
    """N active enrollees as plain rows, and the alarms of the day before the week."""
    from telecare.migrate import recreate

    engine = recreate(url)
    rng = random.Random(2026)
    now = datetime.now(UTC)
    columns = ["first_name", "last_name", "sex", "birth_date", "codice_fiscale", "language",
               "address_street", "address_postal_code", "address_floor",
               "municipality_istat", "lives_alone", "health_notes", "access_notes",
               "consent_note", "age_exception_reason", "call_weekday", "call_window_start",
               "call_window_end", "call_mode", "state", "state_reason", "enrolled_at",
               "state_changed_at", "updated_at"]
    born_from = date(1925, 1, 1)
    with engine.begin() as connection:
        for start in range(0, count, batch):
            rows = []
            for n in range(start, min(start + batch, count)):
                slotted = n % 2 == 0
                cell = (n // 2) % (7 * len(CALLING_HOURS))
                hour = CALLING_HOURS[cell % len(CALLING_HOURS)]
                rows.append((
                    "Nome", f"Cognome{n}", "F", born_from + timedelta(days=rng.randrange(7300)),
                    f"BENCH{n:011d}", "it", "Via Roma 1", "", "", "015146", False, "", "", "",
                    "", cell // len(CALLING_HOURS) if slotted else None,
                    clock(hour) if slotted else None, clock(hour + 1) if slotted else None,
                    "operator" if n % OPERATOR_EVERY == 0 else "automated", "active", "",
                    now, now, now))
            write(connection, Enrollee.__table__, columns, rows)
        opened = datetime.combine(first - timedelta(days=1), clock(14), tzinfo=UTC)
        alarms = [{"enrollee_id": n, "kind": AlarmKind.BUTTON, "severity": Severity.CRITICAL,
                   "opened_at": opened, "last_event_at": opened}
                  for n in range(1, count + 1, ALARM_EVERY)]
        connection.execute(insert(Alarm.__table__), alarms)
        connection.exec_driver_sql("ANALYZE enrollee" if connection.dialect.name == "postgresql"
                                   else "ANALYZE")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Enrollee)) == count
    engine.dispose()


def write(connection, table, columns: list[str], rows: list[tuple]) -> None:
    """COPY on PostgreSQL (many times faster than INSERTs), Core executemany on SQLite."""
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


if __name__ == "__main__":
    sys.exit(main())
