"""Scam warnings: an operator reports a scam in an area; its people, and their neighbours, hear."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaigns.delivery import queue
from campaigns.districts import CityDistricts
from campaigns.geography import Neighbours, target_area
from campaigns.validity import read_choice, read_validity
from telecare import audit
from telecare.actor import Actor
from telecare.enrolment.municipalities import lookup
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import Campaign, CampaignKind, CampaignState, Enrollee, EnrolleeState, ScamKind

MAX_MESSAGE = 600  # about a minute read out slowly; an SMS of four parts
CHANNELS = ("voice", "sms")


def read_scam_report(raw: Mapping, today: date, languages: list[str],
                     districts: CityDistricts | None) -> dict:
    """Check an operator's report; every bad field is named at once."""
    errors: list[FieldError] = []
    municipality = str(raw.get("municipality") or "").strip()
    district_text = str(raw.get("district") or "").strip()
    district = None
    if district_text:
        if districts is None or not district_text.isdigit() or \
                int(district_text) not in districts.municipi.numbers:
            errors.append(FieldError("district", N_("%(value)s is not a district of the city"),
                                     {"value": district_text}))
        else:
            district = int(district_text)
    elif not municipality:
        errors.append(FieldError("municipality", N_("is required")))
    elif lookup(municipality) is None:
        errors.append(FieldError("municipality", N_("%(value)s is not in the ISTAT list of "
                                                    "municipalities"), {"value": municipality}))
    kind = read_choice(raw, "scam_kind", ScamKind, errors)
    messages = {}
    for language in languages:
        text = " ".join(str(raw.get(f"message_{language}") or "").split())
        if len(text) > MAX_MESSAGE:
            errors.append(FieldError(f"message_{language}", N_("is longer than %(limit)d "
                                                               "characters"),
                                     {"limit": MAX_MESSAGE}))
        if text:
            messages[language] = text
    if "it" not in messages:
        errors.append(FieldError("message_it", N_("is required: Italian is everyone's "
                                                  "fallback")))
    channel = str(raw.get("channel") or "voice")
    if channel not in CHANNELS:
        errors.append(FieldError("channel", N_("%(value)s is not one of %(choices)s"),
                                 {"value": channel, "choices": ", ".join(CHANNELS)}))
    valid_from, valid_until = read_validity(raw, today, errors)
    if errors:
        raise ValidationFailed(errors)
    return {"municipality": lookup(municipality).istat if municipality and not district
            else (districts.city if district else None),
            "district": district, "scam_kind": kind, "messages": messages, "channel": channel,
            "with_neighbours": bool(raw.get("with_neighbours", True)),
            "urgent": bool(raw.get("urgent", False)),
            "valid_from": valid_from, "valid_until": valid_until}


def recipients(report: dict, neighbours: Neighbours,
               districts: CityDistricts | None) -> Select:
    """The active enrollees a report reaches, as a select of their ids."""
    active = Enrollee.state == EnrolleeState.ACTIVE
    if report["district"] is not None:
        numbers, others = districts.area(report["district"],
                                         with_neighbours=report["with_neighbours"])
        in_city = (Enrollee.municipality_istat == districts.city) & \
            Enrollee.district.in_(sorted(numbers))
        return select(Enrollee.id).where(active, in_city |
                                         Enrollee.municipality_istat.in_(sorted(others)))
    area = target_area(report["municipality"], neighbours,
                       with_neighbours=report["with_neighbours"])
    return select(Enrollee.id).where(active, Enrollee.municipality_istat.in_(sorted(area)))


def send_scam_warning(session: Session, report: dict, neighbours: Neighbours,
                      districts: CityDistricts | None, actor: Actor,
                      now: datetime) -> tuple[Campaign, int]:
    """Record the warning and queue one delivery per person; returns it and how many."""
    place = (f"Municipio {report['district']}" if report["district"] is not None
             else lookup(report["municipality"]).name)
    campaign = Campaign(
        kind=CampaignKind.SCAM, state=CampaignState.QUEUED,
        title=f"{report['scam_kind'].value}: {place}", messages=report["messages"],
        scam_kind=report["scam_kind"], area_municipality=report["municipality"],
        area_district=report["district"], with_neighbours=report["with_neighbours"],
        channel=report["channel"], urgent=report["urgent"], valid_from=report["valid_from"],
        valid_until=report["valid_until"], created_by_id=actor.user_id, created_at=now)
    session.add(campaign)
    session.flush()
    queued = queue(session, campaign, recipients(report, neighbours, districts), now)
    audit.record(session, actor, "send", "campaign", campaign.id, now, kind="scam",
                 recipients=queued)
    return campaign, queued


def current_warnings(session: Session, municipality: str, district: int | None, today: date,
                     neighbours: Neighbours, districts: CityDistricts | None) -> list[Campaign]:
    """Scam warnings still valid that concern a person's place (the weekly call's news)."""
    rows = session.scalars(select(Campaign).where(
        Campaign.kind == CampaignKind.SCAM, Campaign.state != CampaignState.CANCELLED,
        Campaign.valid_from <= today, Campaign.valid_until >= today).order_by(Campaign.id))
    return [c for c in rows if _concerns(c, municipality, district, neighbours, districts)]


def _concerns(campaign: Campaign, municipality: str, district: int | None,
              neighbours: Neighbours, districts: CityDistricts | None) -> bool:
    if campaign.area_district is not None:
        if districts is None:
            return False
        numbers, others = districts.area(campaign.area_district,
                                         with_neighbours=campaign.with_neighbours)
        return (municipality == districts.city and district in numbers) or municipality in others
    return municipality in target_area(campaign.area_municipality, neighbours,
                                       with_neighbours=campaign.with_neighbours)
