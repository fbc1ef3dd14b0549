"""The Ministry of Health heat-wave bulletin: import it, and say which city covers whom.

Levels: 0 green (no risk), 1 yellow (pre-alert), 2 orange (risk to vulnerable people),
3 red (heat wave: level-2 conditions for 3 or more consecutive days). The bulletin is
published Monday to Friday, mid-May to mid-September, with today's level and the next two
days'. The Ministry offers no API; onData scrapes it into CSV, the format read here.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecare.enrolment.municipalities import by_province, normalise_istat
from telecare.errors import N_, RowError
from telecare.models import HeatForecast

WARNING_LEVEL = 2  # orange: warn the people covered
HEAT_WAVE_LEVEL = 3  # red: also a daily check call to those living alone
REQUIRED_COLUMNS = ("citta", "data", "livello", "data_estrazione")


@dataclass(frozen=True)
class Forecast:
    city: str
    day: date
    level: int
    issued_on: date


@dataclass
class HeatImportReport:
    rows: int = 0
    stored: int = 0  # days new to the database
    updated: int = 0  # days whose level a later bulletin replaced
    unchanged: int = 0  # rows that told nothing newer than what is stored
    errors: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.rows} rows: {self.stored} new days, {self.updated} updated, "
                f"{self.unchanged} unchanged, {len(self.errors)} errors")


def read_bulletin_csv(stream: TextIO, cities: Iterable[str]) -> tuple[list[Forecast],
                                                                      list[RowError]]:
    """Rows of the onData CSV, checked; where a day was scraped several times, the latest wins."""
    known = set(cities)
    reader = csv.DictReader(io.StringIO(stream.read().removeprefix("\ufeff")))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowError.of(1, column, N_("is a required column and is missing"))
                    for column in missing]
    latest: dict[tuple[str, date], Forecast] = {}
    errors: list[RowError] = []
    for number, row in enumerate(reader, start=2):
        forecast, row_errors = _read_row(number, row, known)
        errors += row_errors
        if forecast is None:
            continue
        key = (forecast.city, forecast.day)
        if key not in latest or forecast.issued_on >= latest[key].issued_on:
            latest[key] = forecast
    return sorted(latest.values(), key=lambda f: (f.city, f.day)), errors


def _read_row(number: int, row: dict, known: set[str]) -> tuple[Forecast | None, list[RowError]]:
    errors = []
    city = (row.get("citta") or "").strip().upper()
    if city not in known:
        errors.append(RowError.of(number, "citta", N_("%(value)s is not a city of the bulletin"),
                                  {"value": city}))
    day = _date(number, row, "data", errors)
    issued = _date(number, row, "data_estrazione", errors)
    text = (row.get("livello") or "").strip().lower().removeprefix("livello").strip()
    level = int(text) if text in {"0", "1", "2", "3"} else None
    if level is None:
        errors.append(RowError.of(number, "livello", N_("%(value)s is not a level from 0 to 3"),
                                  {"value": row.get("livello") or ""}))
    if errors:
        return None, errors
    return Forecast(city, day, level, issued), []


def _date(number: int, row: dict, column: str, errors: list[RowError]) -> date | None:
    try:
        return date.fromisoformat((row.get(column) or "").strip())
    except ValueError:
        errors.append(RowError.of(number, column, N_("%(value)s is not a date (YYYY-MM-DD)"),
                                  {"value": row.get(column) or ""}))
        return None


def store(session: Session, forecasts: list[Forecast], now: datetime, source: str,
          report: HeatImportReport) -> None:
    """Keep each city's day at its latest bulletin: an older bulletin never overwrites a newer."""
    stored = {(f.city, f.day): f for f in session.scalars(
        select(HeatForecast).where(HeatForecast.city.in_({f.city for f in forecasts})))}
    for forecast in forecasts:
        row = stored.get((forecast.city, forecast.day))
        if row is None:
            session.add(HeatForecast(city=forecast.city, day=forecast.day, level=forecast.level,
                                     issued_on=forecast.issued_on, source=source,
                                     updated_at=now))
            report.stored += 1
        elif forecast.issued_on > row.issued_on or (
                forecast.issued_on == row.issued_on and forecast.level != row.level):
            row.level, row.issued_on, row.source, row.updated_at = (
                forecast.level, forecast.issued_on, source, now)
            report.updated += 1
        else:
            report.unchanged += 1


def import_bulletin(session: Session, stream: TextIO, coverage: HeatCoverage, now: datetime,
                    source: str = "ondata-csv") -> HeatImportReport:
    report = HeatImportReport()
    text = stream.read()
    report.rows = max(sum(1 for line in text.splitlines() if line.strip()) - 1, 0)
    forecasts, report.errors = read_bulletin_csv(io.StringIO(text), coverage.cities)
    store(session, forecasts, now, source, report)
    return report


def levels(session: Session, city: str, start: date, end: date) -> dict[date, int]:
    """The stored level of each day from start to end, inclusive (days with no bulletin absent)."""
    rows = session.execute(select(HeatForecast.day, HeatForecast.level).where(
        HeatForecast.city == city, HeatForecast.day >= start, HeatForecast.day <= end))
    return dict(rows.all())


def days_at_least(session: Session, city: str, level: int, start: date,
                  end: date) -> list[date]:
    return sorted(day for day, found in levels(session, city, start, end).items()
                  if found >= level)


@dataclass(frozen=True)
class HeatCoverage:
    """Which bulletin city covers each municipality (config/heat.toml)."""

    city_istat: dict[str, str]  # bulletin city -> its own ISTAT code
    by_municipality: dict[str, str]  # ISTAT code -> bulletin city

    @property
    def cities(self) -> list[str]:
        return sorted(self.city_istat)

    def city_for(self, istat: str) -> str | None:
        return self.by_municipality.get(normalise_istat(istat))

    def municipalities_of(self, city: str) -> set[str]:
        return {code for code, covering in self.by_municipality.items() if covering == city}

    @classmethod
    def from_toml(cls, path: Path) -> HeatCoverage:
        with path.open("rb") as fh:
            cities = tomllib.load(fh).get("cities", {})
        city_istat = {name: spec["istat"] for name, spec in cities.items()}
        by_municipality: dict[str, str] = {}
        # Provinces first, then named municipalities and the cities themselves, which win.
        for name, spec in cities.items():
            for province in spec.get("provinces", []):
                for municipality in by_province(province):
                    by_municipality.setdefault(municipality.istat, name)
        for name, spec in cities.items():
            for code in [*spec.get("municipalities", []), spec["istat"]]:
                by_municipality[normalise_istat(code)] = name
        return cls(city_istat, by_municipality)


def actions_for(level: int, lives_alone: bool) -> frozenset[str]:
    """What a day's level means for one person: a warning from orange, a daily check at red."""
    actions = set()
    if level >= WARNING_LEVEL:
        actions.add("warning")
    if level >= HEAT_WAVE_LEVEL and lives_alone:
        actions.add("daily_check")
    return frozenset(actions)
