"""Municipal news: events, deadlines and initiatives, read out in the weekly call."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.districts import CityDistricts
from campaigns.geography import Neighbours
from campaigns.heat import WARNING_LEVEL, HeatCoverage, levels
from campaigns.heat_campaigns import wording
from campaigns.scams import MAX_MESSAGE, current_warnings
from campaigns.validity import read_choice, read_validity
from telecare import audit
from telecare.actor import Actor
from telecare.enrolment.municipalities import lookup, normalise_istat
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import Enrollee, NewsItem, NewsKind


def add_news(session: Session, raw: Mapping, today: date, actor: Actor,
             now: datetime) -> NewsItem:
    errors: list[FieldError] = []
    kind = read_choice(raw, "kind", NewsKind, errors)
    municipality = normalise_istat(str(raw.get("municipality") or ""))
    if municipality and lookup(municipality) is None:
        errors.append(FieldError("municipality", N_("%(value)s is not in the ISTAT list of "
                                                    "municipalities"), {"value": municipality}))
    title = " ".join(str(raw.get("title") or "").split())
    text = " ".join(str(raw.get("text") or "").split())
    if not title:
        errors.append(FieldError("title", N_("is required")))
    elif len(title) > 200:
        errors.append(FieldError("title", N_("is longer than %(limit)d characters"),
                                 {"limit": 200}))
    if not text:
        errors.append(FieldError("text", N_("is required")))
    elif len(text) > MAX_MESSAGE:
        errors.append(FieldError("text", N_("is longer than %(limit)d characters"),
                                 {"limit": MAX_MESSAGE}))
    valid_from, valid_until = read_validity(raw, today, errors)
    if errors:
        raise ValidationFailed(errors)
    item = NewsItem(kind=kind, municipality=municipality or None, title=title, text=text,
                    valid_from=valid_from, valid_until=valid_until,
                    created_by_id=actor.user_id, created_at=now)
    session.add(item)
    session.flush()
    audit.record(session, actor, "create", "news_item", item.id, now)
    return item


def news_for(session: Session, municipality: str, day: date) -> list[NewsItem]:
    """What the weekly call passes on to someone in this municipality on this day."""
    return list(session.scalars(select(NewsItem).where(
        NewsItem.valid_from <= day, NewsItem.valid_until >= day,
        or_(NewsItem.municipality.is_(None), NewsItem.municipality == municipality))
        .order_by(NewsItem.valid_until, NewsItem.id)))


def weekly_news(session: Session, enrollee: Enrollee, day: date, coverage: HeatCoverage,
                neighbours: Neighbours, districts: CityDistricts | None) -> list[str]:
    """The lines the weekly call reads to this person: heat, scams nearby, municipal news."""
    lines = []
    city = coverage.city_for(enrollee.municipality_istat)
    if city is not None:
        level = levels(session, city, day, day).get(day)
        if level is not None and level >= WARNING_LEVEL:
            texts = wording("heat_warning", [enrollee.language], city=city.title(),
                            level=level)
            lines.append(texts.get(enrollee.language) or texts["it"])
    for warning in current_warnings(session, enrollee.municipality_istat, enrollee.district,
                                     day, neighbours, districts):
        lines.append(warning.messages.get(enrollee.language) or warning.messages["it"])
    lines += [f"{item.title}. {item.text}"
              for item in news_for(session, enrollee.municipality_istat, day)]
    return lines
