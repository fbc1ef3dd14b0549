"""From the bulletin to campaigns: orange warns everyone, red also checks on those alone."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery import queue
from campaigns.heat import HEAT_WAVE_LEVEL, WARNING_LEVEL, HeatCoverage
from telecare.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    Enrollee,
    EnrolleeState,
    HeatForecast,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
LEVEL_NAMES = {
    "it": {2: "un livello arancione di rischio per il caldo, pericoloso per le persone fragili",
           3: "un'ondata di calore, livello rosso: condizioni ad alto rischio da almeno tre "
              "giorni"},
    "en": {2: "an orange level of heat risk, dangerous for frail people",
           3: "a heat wave, red level: high-risk conditions for three days or more"},
}
DAY_NAMES = {"it": "oggi", "en": "today"}


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False,
                       undefined=StrictUndefined)


def wording(kind: str, languages: list[str], **params) -> dict[str, str]:
    """The message in every language we have words for (Italian always)."""
    found = {}
    for language in {"it", *languages}:
        if not (TEMPLATES / language / f"{kind}.txt").exists():
            continue
        text = _templates().get_template(f"{language}/{kind}.txt").render(
            level_name=LEVEL_NAMES.get(language, LEVEL_NAMES["it"]).get(params.get("level"), ""),
            day=DAY_NAMES.get(language, ""), **params)
        found[language] = " ".join(text.split())
    return found


def plan_heat_day(session: Session, coverage: HeatCoverage, day: date, now: datetime,
                  languages: list[str]) -> list[tuple[Campaign, int]]:
    """Make (once) the day's warnings and checks for every city at orange or red."""
    made = []
    for forecast in session.scalars(select(HeatForecast).where(
            HeatForecast.day == day, HeatForecast.level >= WARNING_LEVEL)
            .order_by(HeatForecast.city)):
        area = coverage.municipalities_of(forecast.city)
        if not area:
            continue
        name = forecast.city.title()
        plans = [(CampaignKind.HEAT_WARNING, "heat_warning", False)]
        if forecast.level >= HEAT_WAVE_LEVEL:
            plans.append((CampaignKind.HEAT_CHECK, "heat_check", True))
        for kind, template, alone_only in plans:
            key = f"{kind.value}:{forecast.city}:{day.isoformat()}"
            if session.scalars(select(Campaign.id).where(Campaign.dedupe_key == key)).first():
                continue
            campaign = Campaign(
                kind=kind, state=CampaignState.QUEUED, dedupe_key=key,
                title=f"{kind.value}: {name} {day.isoformat()} (level {forecast.level})",
                messages=wording(template, languages, city=name, level=forecast.level),
                area_municipality=coverage.city_istat[forecast.city], with_neighbours=False,
                channel="voice", urgent=False, valid_from=day, valid_until=day, created_at=now)
            session.add(campaign)
            session.flush()
            people = select(Enrollee.id).where(Enrollee.state == EnrolleeState.ACTIVE,
                                               Enrollee.municipality_istat.in_(sorted(area)))
            if alone_only:
                people = people.where(Enrollee.lives_alone.is_(True))
            made.append((campaign, queue(session, campaign, people, now)))
    return made
