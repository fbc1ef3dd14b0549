"""A city's districts (Milan's nine Municipi): which one an address lies in, and what they touch.

Boundaries come from the city's open data as GeoJSON, named in configuration. A postal code
does not identify a Municipio (11 of Milan's 34 span two), so an enrollee's Municipio comes
from the coordinates of their address, and only from them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from shapely import affinity
from shapely.geometry import Point, box, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

# Boundaries drawn by different offices never share vertices exactly: two areas whose borders
# run within this distance of each other for at least MIN_SHARED_M are neighbours.
TOLERANCE_M = 80.0
MIN_SHARED_M = 100.0
SIMPLIFY_M = 5.0


@dataclass(frozen=True)
class District:
    number: int
    geometry: BaseGeometry  # lon/lat, as in GeoJSON


class Municipi:
    def __init__(self, districts: list[District]):
        self.districts = sorted(districts, key=lambda d: d.number)
        self._prepared = [(d.number, prep(d.geometry)) for d in self.districts]
        lat = sum(d.geometry.centroid.y for d in self.districts) / max(len(self.districts), 1)
        self._to_metres = _metres_around(lat)
        self._in_metres = {d.number: self._to_metres(d.geometry) for d in self.districts}

    @classmethod
    def from_geojson(cls, path: Path, number_property: str = "ZONADEC") -> Municipi:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls([District(int(f["properties"][number_property]), shape(f["geometry"]))
                    for f in data["features"]])

    @property
    def numbers(self) -> list[int]:
        return [d.number for d in self.districts]

    def at(self, latitude: float, longitude: float) -> int | None:
        """The Municipio containing a point, or None outside the city."""
        point = Point(longitude, latitude)
        return next((number for number, area in self._prepared if area.covers(point)), None)

    def adjacent(self) -> dict[int, set[int]]:
        """Which Municipi border which."""
        found: dict[int, set[int]] = {d.number: set() for d in self.districts}
        for i, a in enumerate(self.numbers):
            for b in self.numbers[i + 1:]:
                if _border_between(self._in_metres[a], self._in_metres[b]):
                    found[a].add(b)
                    found[b].add(a)
        return found

    def bordering(self, municipalities: dict[str, BaseGeometry]) -> dict[int, set[str]]:
        """For each Municipio, the municipalities (by ISTAT code) along its border."""
        others = {code: self._to_metres(area) for code, area in municipalities.items()}
        return {number: {code for code, area in others.items()
                         if _border_between(self._in_metres[number], area)}
                for number in self.numbers}


def _border_between(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Two areas (in metres) whose borders run together for a stretch, not just a corner."""
    west, south, east, north = a.bounds
    if not b.intersects(box(west - TOLERANCE_M, south - TOLERANCE_M, east + TOLERANCE_M,
                            north + TOLERANCE_M)) or a.distance(b) > TOLERANCE_M:
        return False
    return a.boundary.intersection(b.boundary.buffer(TOLERANCE_M)).length >= MIN_SHARED_M


def municipalities_from_geojson(path: Path, code_property: str = "com_istat_code",
                                ) -> dict[str, BaseGeometry]:
    """Municipal boundaries (e.g. openpolis' file for the Città metropolitana) by ISTAT code."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {f["properties"][code_property]: shape(f["geometry"]) for f in data["features"]}


def _metres_around(latitude: float):
    """Lon/lat to local metres (equirectangular): exact enough across one city."""
    x_scale = 111_320 * math.cos(math.radians(latitude))

    def to_metres(geometry: BaseGeometry) -> BaseGeometry:
        scaled = affinity.scale(geometry, xfact=x_scale, yfact=110_574, origin=(0, 0))
        # Survey-grade vertices every metre or so cost much and change nothing here.
        return scaled.simplify(SIMPLIFY_M)

    return to_metres
