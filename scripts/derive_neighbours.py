#!/usr/bin/env python3
"""Derive which municipalities border which from a TopoJSON of municipal boundaries.

Usage: derive_neighbours.py BOUNDARIES.topo.json OUTPUT.csv

The boundary files are openpolis/geojson-italy (CC BY 4.0, "© ISTAT; data by Openpolis"); the
output carries that attribution in its first line. Telecare ships Lombardy's table
(campaigns/data/neighbours_lombardia.csv), made from limits_R_3_municipalities.topo.json; a
city elsewhere makes its region's the same way.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

from campaigns.boundaries import neighbours

ATTRIBUTION = ("# Neighbouring municipalities derived by scripts/derive_neighbours.py from "
               "openpolis/geojson-italy boundaries, CC BY 4.0, © ISTAT; data by Openpolis")


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    topology = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    rows = neighbours(topology)
    with open(argv[2], "w", newline="", encoding="utf-8") as out:
        out.write(ATTRIBUTION + "\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["istat_a", "name_a", "istat_b", "name_b", "contact"])
        writer.writerows(rows)
    kinds = Counter(row[4] for row in rows)
    print(f"{len(rows)} pairs: {kinds['edge']} edge, {kinds['point']} point -> {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
