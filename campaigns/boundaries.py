"""Border contacts between municipalities, read from a TopoJSON of their boundaries.

In a topology, two municipalities that share a stretch of border share an arc: they are
`edge` neighbours. Two that meet only where arcs end, at a single point, are `point`
neighbours (often an artefact of simplified boundaries; campaigns leave them out by default).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations


def arc_ends(arc: list[list[int]]) -> tuple[tuple[int, int], tuple[int, int]]:
    """First and last point of a quantised, delta-encoded arc."""
    x, y = 0, 0
    points = []
    for dx, dy in arc:
        x, y = x + dx, y + dy
        points.append((x, y))
    return points[0], points[-1]


def rings_of(geometry: dict) -> list[list[int]]:
    if geometry["type"] == "Polygon":
        return geometry["arcs"]
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["arcs"] for ring in polygon]
    return []


def neighbours(topology: dict) -> list[tuple[str, str, str, str, str]]:
    """(istat_a, name_a, istat_b, name_b, edge|point), istat_a < istat_b, sorted."""
    quantised = "transform" in topology
    ends = [arc_ends(arc) if quantised else (tuple(arc[0]), tuple(arc[-1]))
            for arc in topology["arcs"]]
    names: dict[str, str] = {}
    by_arc: dict[int, set[str]] = defaultdict(set)
    by_point: dict[tuple[int, int], set[str]] = defaultdict(set)
    for geometries in topology["objects"].values():
        for geometry in geometries["geometries"]:
            code = geometry["properties"]["com_istat_code"]
            names[code] = geometry["properties"]["name"]
            for ring in rings_of(geometry):
                for index in ring:
                    arc = index if index >= 0 else ~index  # ~i: arc i walked backwards
                    by_arc[arc].add(code)
                    for point in ends[arc]:
                        by_point[point].add(code)
    edge = {pair for codes in by_arc.values() for pair in combinations(sorted(codes), 2)}
    point = {pair for codes in by_point.values()
             for pair in combinations(sorted(codes), 2)} - edge
    rows = [(a, names[a], b, names[b], kind)
            for kind, pairs in (("edge", edge), ("point", point)) for a, b in pairs]
    return sorted(rows)
