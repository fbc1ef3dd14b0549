"""Which municipalities a warning covers: the one named and, by default, those bordering it."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telecare.enrolment.municipalities import normalise_istat
from telecare.models import Enrollee, EnrolleeState

# Derived by scripts/derive_neighbours.py from openpolis/geojson-italy (CC BY 4.0).
SHIPPED_NEIGHBOURS = Path(__file__).resolve().parent / "data" / "neighbours_lombardia.csv"


@dataclass(frozen=True)
class Neighbours:
    """Border contacts between municipalities, by ISTAT code."""

    edge: dict[str, frozenset[str]]
    point: dict[str, frozenset[str]]  # touching at a corner only

    def of(self, istat: str, *, corners: bool = False) -> frozenset[str]:
        code = normalise_istat(istat)
        found = self.edge.get(code, frozenset())
        return found | self.point.get(code, frozenset()) if corners else found

    def covers(self, istat: str) -> bool:
        return normalise_istat(istat) in self.edge or normalise_istat(istat) in self.point


def read_neighbours(lines: Iterable[str]) -> Neighbours:
    edge: dict[str, set[str]] = defaultdict(set)
    point: dict[str, set[str]] = defaultdict(set)
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        table = edge if row["contact"] == "edge" else point
        table[row["istat_a"]].add(row["istat_b"])
        table[row["istat_b"]].add(row["istat_a"])
    return Neighbours({k: frozenset(v) for k, v in edge.items()},
                      {k: frozenset(v) for k, v in point.items()})


@cache
def shipped_neighbours() -> Neighbours:
    with SHIPPED_NEIGHBOURS.open(encoding="utf-8") as lines:
        return read_neighbours(lines)


def target_area(istat: str, neighbours: Neighbours, *, with_neighbours: bool = True,
                corners: bool = False) -> frozenset[str]:
    """The municipality itself, plus its neighbours unless told otherwise."""
    code = normalise_istat(istat)
    if not with_neighbours:
        return frozenset({code})
    return frozenset({code}) | neighbours.of(code, corners=corners)


def recipients_by_municipality(session: Session, area: Iterable[str]) -> dict[str, int]:
    """Active enrollees per municipality of the area (municipalities with none are left out)."""
    rows = session.execute(
        select(Enrollee.municipality_istat, func.count())
        .where(Enrollee.municipality_istat.in_(sorted(area)),
               Enrollee.state == EnrolleeState.ACTIVE)
        .group_by(Enrollee.municipality_istat)
    )
    return dict(rows.all())
