"""Benchmark: who a scam warning reaches among 1,000,000 enrollees.

    .venv/bin/python bench/campaign_targeting.py [--database-url URL] [--enrollees N]

Enrollees are spread over Lombardy's municipalities, half of them in the Città metropolitana
di Milano, weighted towards Milan itself. For Milan and its 23 neighbours, and for Bresso and
its 5, it times what the operator waits for before sending: the area (neighbours table), the
count by municipality and the first page of the recipient list (target: under 1 s together);
and, for information, reading every recipient id into Python. The baseline, timed in
the same run, is one count of every active enrollee (a full pass over the table).
A given database is EMPTIED first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from campaigns.geography import recipients_by_municipality, shipped_neighbours, target_area
from telecare.db import make_session_factory
from telecare.migrate import recreate
from telecare.models import Enrollee, EnrolleeState

MILANO, BRESSO = "015146", "015032"
STATES = [EnrolleeState.ACTIVE] * 18 + [EnrolleeState.SUSPENDED, EnrolleeState.ENDED]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--enrollees", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="telecare-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        return run(url, args)


def run(url: str, args) -> int:
    engine = recreate(url)
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    started = time.perf_counter()
    fill(engine, args.enrollees)
    print(f"filled {args.enrollees:,} enrollees in {time.perf_counter() - started:.1f} s")

    sessions = make_session_factory(engine)
    neighbours = shipped_neighbours()
    with sessions() as session:
        baseline = timed(args.repeat, lambda: session.scalar(
            select(func.count()).select_from(Enrollee)
            .where(Enrollee.state == EnrolleeState.ACTIVE)))
        print(f"baseline, count every active enrollee: {baseline * 1000:.0f} ms")
        ok = True
        for name, code in (("Milano", MILANO), ("Bresso", BRESSO)):
            area_time = timed(args.repeat, lambda c=code: target_area(c, neighbours))
            area = target_area(code, neighbours)
            counts = recipients_by_municipality(session, area)
            count_time = timed(args.repeat, lambda a=area: recipients_by_municipality(session, a))
            page_time = timed(args.repeat, lambda a=area: recipients_page(session, a))
            ids_time = timed(args.repeat, lambda a=area: session.scalars(
                select(Enrollee.id).where(Enrollee.municipality_istat.in_(sorted(a)),
                                          Enrollee.state == EnrolleeState.ACTIVE)).all())
            total = sum(counts.values())
            print(f"{name} and its {len(area) - 1} neighbours: {total:,} recipients; "
                  f"area {area_time * 1000:.2f} ms, counts by municipality "
                  f"{count_time * 1000:.0f} ms ({count_time / baseline:.2f} x baseline), "
                  f"first page of the list {page_time * 1000:.0f} ms "
                  f"({page_time / baseline:.2f} x baseline); every recipient id into Python "
                  f"{ids_time * 1000:.0f} ms ({ids_time / baseline:.2f} x baseline)")
            # The target is the preview an operator waits for: counts and the first page.
            ok &= area_time + count_time + page_time < 1.0
    print("target under 1 s:", "met" if ok else "NOT met")
    return 0 if ok else 1


def recipients_page(session, area, size: int = 50) -> list:
    """The preview's first page: recipients by municipality, then surname."""
    return session.execute(
        select(Enrollee.id, Enrollee.last_name, Enrollee.municipality_istat)
        .where(Enrollee.municipality_istat.in_(sorted(area)),
               Enrollee.state == EnrolleeState.ACTIVE)
        .order_by(Enrollee.municipality_istat, Enrollee.last_name, Enrollee.id)
        .limit(size)).all()


def timed(repeat: int, action) -> float:
    """The median of `repeat` runs, after one warm-up."""
    action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fill(engine, count: int, batch: int = 20_000) -> None:
    """Plain rows, fast: targeting reads only municipality and state."""
    from telecare.enrolment.municipalities import registry

    rng = random.Random(2026)
    lombardy = [m.istat for m in registry().values() if m.region == "Lombardia"]
    metro = [m.istat for m in registry().values() if m.province_code == "MI"]
    now = datetime.now(UTC)
    table = Enrollee.__table__
    with engine.begin() as connection:
        for start in range(0, count, batch):
            rows = []
            for n in range(start, min(start + batch, count)):
                pick = rng.random()
                municipality = (MILANO if pick < 0.3 else rng.choice(metro) if pick < 0.5
                                else rng.choice(lombardy))
                rows.append({
                    "first_name": "Nome", "last_name": f"Cognome{n}", "sex": "F",
                    "birth_date": date(1940, 1, 1), "codice_fiscale": f"BENCH{n:011d}",
                    "language": "it", "address_street": "Via Roma 1", "address_postal_code": "",
                    "address_floor": "", "municipality_istat": municipality,
                    "lives_alone": False, "health_notes": "", "access_notes": "",
                    "consent_note": "", "age_exception_reason": "",
                    "state": rng.choice(STATES), "state_reason": "", "enrolled_at": now,
                    "state_changed_at": now, "updated_at": now,
                })
            connection.execute(insert(table), rows)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE enrollee")
        else:
            connection.exec_driver_sql("ANALYZE")


if __name__ == "__main__":
    sys.exit(main())
