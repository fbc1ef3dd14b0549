"""Districts in use: place enrollees in them, and target a warning at one."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.geography import Neighbours
from campaigns.municipi import Municipi, municipalities_from_geojson
from telecare.models import Enrollee, EnrolleeState
from telecare.settings import CampaignSettings


@dataclass(frozen=True)
class CityDistricts:
    city: str  # ISTAT code of the municipality they divide
    municipi: Municipi
    adjacent: dict[int, set[int]]
    bordering: dict[int, set[str]]  # district -> neighbouring municipalities along it

    def area(self, number: int, *, with_neighbours: bool = True) -> tuple[set[int], set[str]]:
        """The districts and the other municipalities a warning for one district reaches."""
        if number not in self.adjacent:
            raise KeyError(number)
        if not with_neighbours:
            return {number}, set()
        return {number} | self.adjacent[number], set(self.bordering[number])


def load(settings: CampaignSettings, neighbours: Neighbours) -> CityDistricts | None:
    if not settings.districts_file:
        return None
    return _load(settings.districts_file, settings.districts_number_property,
                 settings.districts_city, settings.boundaries_file,
                 neighbours.of(settings.districts_city))


@cache
def _load(districts_file: str, number_property: str, city: str, boundaries_file: str,
          city_neighbours: frozenset[str]) -> CityDistricts:
    municipi = Municipi.from_geojson(Path(districts_file), number_property)
    bordering: dict[int, set[str]] = {n: set() for n in municipi.numbers}
    if boundaries_file:
        # Only the city's own neighbours can border one of its districts.
        around = {code: area for code, area in
                  municipalities_from_geojson(Path(boundaries_file)).items()
                  if code in city_neighbours}
        bordering = municipi.bordering(around)
    return CityDistricts(city, municipi, municipi.adjacent(), bordering)


def place_enrollees(session: Session, districts: CityDistricts) -> tuple[int, int]:
    """Set each city enrollee's district from their coordinates; returns (placed, unplaced)."""
    rows = session.execute(select(Enrollee.id, Enrollee.latitude, Enrollee.longitude,
                                  Enrollee.district)
                           .where(Enrollee.municipality_istat == districts.city)).all()
    changes = []
    placed = 0
    for enrollee_id, latitude, longitude, current in rows:
        number = (districts.municipi.at(latitude, longitude)
                  if latitude is not None and longitude is not None else None)
        placed += number is not None
        if number != current:
            changes.append({"id": enrollee_id, "district": number})
    if changes:
        session.execute(update(Enrollee), changes)
    return placed, len(rows) - placed


def recipients_by_district(session: Session, districts: CityDistricts,
                           numbers: set[int]) -> dict[int | None, int]:
    """Active city enrollees per district among `numbers`; None counts those not placed."""
    rows = session.execute(
        select(Enrollee.district, func.count())
        .where(Enrollee.municipality_istat == districts.city,
               Enrollee.state == EnrolleeState.ACTIVE,
               (Enrollee.district.in_(sorted(numbers))) | Enrollee.district.is_(None))
        .group_by(Enrollee.district))
    return dict(rows.all())
