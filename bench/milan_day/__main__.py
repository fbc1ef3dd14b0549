"""`python -m bench.milan_day`: build the service, run the day, print the KPI table.

Exit status 1 if the run took 10 minutes or more, or a webhook failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.milan_day.day import run_day
from bench.milan_day.kpis import table
from bench.milan_day.service import build

ROME = ZoneInfo("Europe/Rome")  # the service's default zone (TELECARE_TIMEZONE)
# A Wednesday in July: the heat bulletin runs mid-May to mid-September, no public holiday.
DAY = date(2026, 7, 15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.milan_day",
                                     description="One day of Milan's telecare service.")
    parser.add_argument("--database-url", help="SQLAlchemy URL (EMPTIED first; a PostgreSQL "
                                               "database that does not exist is created); "
                                               "default: a new SQLite file in a temp folder")
    parser.add_argument("--enrollees", type=int, default=5_000)
    parser.add_argument("--date", type=date.fromisoformat, default=DAY,
                        help="the local day to simulate (YYYY-MM-DD)")
    parser.add_argument("--start", type=clock_time.fromisoformat, default=clock_time(0),
                        help="local time the simulation starts (HH:MM)")
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    parser.add_argument("--step", type=float, default=5.0,
                        help="simulated seconds per jump of the clock")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    # The product logs what goes wrong at WARNING (a call that could not be placed...): the
    # table says what matters; the log keeps errors only.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="telecare-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'milan_day.db'}"
        return run(url, args)


def run(url: str, args) -> int:
    start = datetime.combine(args.date, args.start, tzinfo=ROME)
    end = start + timedelta(hours=args.hours)
    began = time.perf_counter()
    service = build(url, args.enrollees, start, args.seed)
    setup_s = time.perf_counter() - began
    print(f"set up {args.enrollees:,} enrollees with pendants, their week planned, in "
          f"{setup_s:.1f} s; simulating {args.hours:g} h in steps of {args.step:g} s ...",
          flush=True)
    day = run_day(service, args.date, start, end, args.step)
    database = service.runtime.engine.url.render_as_string(hide_password=True)
    text, under = table(service, args.date, day, setup_s,
                        "SQLite" if database.startswith("sqlite") else database,
                        args.enrollees)
    print(text)
    service.runtime.close()
    return 0 if under and not service.network.errors else 1


if __name__ == "__main__":
    sys.exit(main())
