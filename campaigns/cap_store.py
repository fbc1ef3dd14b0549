"""Receiving CAP alerts: store each once, let an Update replace and a Cancel withdraw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shapely.geometry import Point, Polygon
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from campaigns.cap import CapAlert, parse
from campaigns.delivery import cancel, queue
from telecare.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    CapMessage,
    CapState,
    Enrollee,
    EnrolleeState,
)

DELIVERABLE_STATUS = "Actual"


@dataclass(frozen=True)
class Received:
    message: CapMessage
    duplicate: bool  # the same sender and identifier came before: nothing new happens
    replaced: list[CapMessage]  # what this Update or Cancel superseded or withdrew

    def summary(self) -> str:
        m = self.message
        if self.duplicate:
            return f"{m.sender} {m.identifier}: already received, nothing delivered again"
        changed = ", ".join(r.identifier for r in self.replaced) or "nothing"
        verb = {"Update": "replaces", "Cancel": "cancels"}.get(m.msg_type)
        tail = f"; {verb} {changed}" if verb else ""
        return f"{m.sender} {m.identifier}: {m.msg_type} ({m.state.value}){tail}"


def receive(session: Session, document: bytes, now: datetime) -> Received:
    """Store a CAP document; raises campaigns.cap.CapRefused for anything that is not CAP 1.2."""
    alert = parse(document)
    existing = session.scalars(select(CapMessage).where(
        CapMessage.sender == alert.sender, CapMessage.identifier == alert.identifier)).first()
    if existing is not None:
        return Received(existing, duplicate=True, replaced=[])
    message = CapMessage(
        sender=alert.sender, identifier=alert.identifier, sent=alert.sent, status=alert.status,
        msg_type=alert.msg_type, state=_initial_state(alert), expires=alert.expires,
        area_istat=sorted(alert.istat_codes),
        polygons=[[list(p) for p in ring] for info in alert.infos for area in info.areas
                  for ring in area.polygons],
        heat_level=alert.heat_level, document=document.decode("utf-8", "replace"),
        received_at=now,
    )
    session.add(message)
    session.flush()
    replaced = _apply_references(session, alert, message)
    return Received(message, duplicate=False, replaced=replaced)


def _initial_state(alert: CapAlert) -> CapState:
    if alert.status != DELIVERABLE_STATUS or alert.msg_type not in ("Alert", "Update"):
        return CapState.NOT_DELIVERED
    return CapState.ACTIVE


def _apply_references(session: Session, alert: CapAlert, message: CapMessage) -> list:
    if alert.msg_type not in ("Update", "Cancel") or not alert.references:
        return []
    keys = [(r.sender, r.identifier) for r in alert.references]
    earlier = session.scalars(select(CapMessage).where(
        tuple_(CapMessage.sender, CapMessage.identifier).in_(keys))).all()
    new_state = CapState.SUPERSEDED if alert.msg_type == "Update" else CapState.CANCELLED
    for old in earlier:
        if old.state == CapState.ACTIVE:
            old.state, old.replaced_by_id = new_state, message.id
    return list(earlier)


def active_messages(session: Session, now: datetime) -> list[CapMessage]:
    """Alerts to deliver now: actual, neither replaced nor withdrawn, not expired."""
    rows = session.scalars(select(CapMessage).where(CapMessage.state == CapState.ACTIVE))
    return [m for m in rows if m.expires is None or m.expires > now]


def recipients(session: Session, message: CapMessage) -> list[Enrollee]:
    """Active enrollees in the message's municipalities or inside its polygons."""
    found: dict[int, Enrollee] = {}
    if message.area_istat:
        for enrollee in session.scalars(select(Enrollee).where(
                Enrollee.municipality_istat.in_(message.area_istat),
                Enrollee.state == EnrolleeState.ACTIVE)):
            found[enrollee.id] = enrollee
    if message.polygons:
        # CAP polygons are lat,lon pairs; shapely works in x,y: lon,lat.
        shapes = [Polygon([(lon, lat) for lat, lon in ring]) for ring in message.polygons
                  if len(ring) >= 4]
        for shape in shapes:
            west, south, east, north = shape.bounds
            for enrollee in session.scalars(select(Enrollee).where(
                    Enrollee.state == EnrolleeState.ACTIVE,
                    Enrollee.latitude.between(south, north),
                    Enrollee.longitude.between(west, east))):
                if shape.covers(Point(enrollee.longitude, enrollee.latitude)):
                    found[enrollee.id] = enrollee
    return sorted(found.values(), key=lambda e: e.id)


def warn_from(session: Session, received: Received, now: datetime) -> Campaign | None:
    """Turn a received alert into a campaign; an Update or Cancel stops what it replaces.

    Returns the new campaign, if the alert is one to deliver.
    """
    message = received.message
    if received.duplicate:
        return None
    for old in received.replaced:
        campaign = session.scalars(select(Campaign).where(
            Campaign.cap_message_id == old.id)).first()
        if campaign is not None and campaign.state == CampaignState.QUEUED:
            cancel(session, campaign, now)
    if message.state != CapState.ACTIVE or (message.expires and message.expires <= now):
        return None
    alert = parse(message.document.encode("utf-8"))
    texts = {}
    for info in alert.infos:
        language = info.language.lower().split("-")[0]
        words = " ".join(part for part in (info.headline, info.instruction or info.description)
                         if part)
        texts.setdefault(language, " ".join(words.split())[:600])
    if "it" not in texts and texts:
        texts["it"] = next(iter(texts.values()))  # the fallback must exist
    day = now.date()
    campaign = Campaign(
        kind=CampaignKind.CAP, state=CampaignState.QUEUED, dedupe_key=f"cap:{message.id}",
        title=f"cap: {(alert.infos[0].headline or alert.infos[0].event)[:180]}",
        messages=texts, area_municipality=None, with_neighbours=False, channel="voice",
        # Civil protection warns of what may happen tonight: it may ring in the quiet hours
        # when the sender marks it Immediate.
        urgent=any(info.urgency == "Immediate" for info in alert.infos),
        valid_from=day, valid_until=(message.expires.date() if message.expires else day),
        cap_message_id=message.id, created_at=now)
    session.add(campaign)
    session.flush()
    queue(session, campaign, [e.id for e in recipients(session, message)], now)
    return campaign
