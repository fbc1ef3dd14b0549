"""Benchmark: seed 100,000 enrollees, then import a 10,000-row file with 200 broken rows, twice.

    .venv/bin/python bench/import_enrollees.py [--database-url URL]

Without --database-url it uses a fresh SQLite file in a temporary folder. A given database is
EMPTIED first (every telecare table dropped, then rebuilt by the migrations).
Exit status 1 if the import does not report exactly what the generated file should give.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from telecare.actor import Actor
from telecare.db import make_session_factory
from telecare.enrolment.importer import ImportReport, import_enrollees
from telecare.enrolment.seed import make_import_file, seed_enrollees
from telecare.migrate import recreate
from telecare.models import Enrollee
from telecare.settings import EnrolmentSettings

ACTOR = Actor("bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed, then import a file with broken rows.")
    parser.add_argument("--database-url", help="SQLAlchemy URL (emptied first); "
                                               "default: a new SQLite file in a temp folder")
    parser.add_argument("--enrollees", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--broken-each", type=int, default=40,
                        help="broken rows per kind of mistake (5 kinds)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="telecare-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        return run(url, Path(folder), args)


def run(url: str, folder: Path, args) -> int:
    engine = recreate(url)
    sessions = make_session_factory(engine)
    policy = EnrolmentSettings()
    now = datetime.now(UTC)
    print(f"database: {engine.url.render_as_string(hide_password=True)}")

    started = time.perf_counter()
    seeded = seed_enrollees(sessions, args.enrollees, ACTOR, now, policy, seed=args.seed)
    seed_s = time.perf_counter() - started
    print(f"seed: {seeded.enrollees} enrollees, {seeded.phones} phones, {seeded.contacts} "
          f"contacts in {seed_s:.1f} s ({seeded.enrollees / seed_s:,.0f} enrollees/s)")

    with sessions() as session:
        enrolled = set(session.scalars(select(Enrollee.codice_fiscale)))
    started = time.perf_counter()
    made = make_import_file(args.rows, args.broken_each, now.date(), policy,
                            seed=args.seed + 1, avoid=enrolled)
    path = folder / "import.csv"
    path.write_text(made.text, encoding="utf-8")
    print(f"file: {args.rows} rows, {len(made.broken)} broken, written in "
          f"{time.perf_counter() - started:.1f} s")

    failures: list[str] = []
    good = args.rows - len(made.broken)
    first, first_s = timed_import(sessions, path, now, policy)
    print(f"first import: {first.summary()} in {first_s:.1f} s "
          f"({first.rows / first_s:,.0f} rows/s)")
    failures += check(first, made.broken, imported=good, unchanged=0, label="first import")
    second, second_s = timed_import(sessions, path, now, policy)
    print(f"second import: {second.summary()} in {second_s:.1f} s "
          f"({second.rows / second_s:,.0f} rows/s)")
    failures += check(second, made.broken, imported=0, unchanged=good, label="second import")

    print(f"timings: seed {seed_s:.1f} s, first import {first_s:.1f} s, "
          f"second import {second_s:.1f} s")
    engine.dispose()
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    print("checks: " + ("FAILED" if failures else "all passed"))
    return 1 if failures else 0


def timed_import(sessions, path: Path, now, policy) -> tuple[ImportReport, float]:
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as stream:
        report = import_enrollees(sessions, stream, ACTOR, now, policy, file_name=path.name)
    return report, time.perf_counter() - started


def check(report: ImportReport, broken: dict[int, str], *, imported: int, unchanged: int,
          label: str) -> list[str]:
    failures = []
    if (report.imported, report.unchanged) != (imported, unchanged):
        failures.append(f"{label}: imported {report.imported}, unchanged {report.unchanged}; "
                        f"expected {imported} and {unchanged}")
    reported = {(e.row, e.field) for e in report.errors if e.reason}
    if reported != set(broken.items()) or len(report.errors) != len(broken):
        missing = sorted(set(broken.items()) - reported)[:5]
        extra = sorted(reported - set(broken.items()))[:5]
        failures.append(f"{label}: {len(report.errors)} errors reported, expected "
                        f"{len(broken)}; missing {missing}, unexpected {extra}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
