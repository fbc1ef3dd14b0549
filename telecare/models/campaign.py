"""What campaigns know: the heat-wave bulletin's levels, and the CAP alerts received."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from telecare.models.base import Base, str_enum


class HeatForecast(Base):
    """The bulletin's level for one city and day, as of its latest extraction."""

    __tablename__ = "heat_forecast"
    __table_args__ = (UniqueConstraint("city", "day", name="uq_heat_forecast_city_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(40))  # the bulletin's name, e.g. MILANO
    day: Mapped[date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(SmallInteger)  # 0 green .. 3 red (heat wave)
    # The bulletin's publication day: a later one replaces an earlier forecast for the day.
    issued_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40))  # "ondata-csv", "manual", "cap:<id>"
    updated_at: Mapped[datetime]


class CapState(enum.StrEnum):
    ACTIVE = "active"  # may be delivered until it expires
    SUPERSEDED = "superseded"  # an Update replaced it
    CANCELLED = "cancelled"  # a Cancel withdrew it
    NOT_DELIVERED = "not_delivered"  # not for the public: Exercise, Test, System, Draft, Ack


class CapMessage(Base):
    """A received CAP document: kept whole, delivered at most once per identifier."""

    __tablename__ = "cap_message"
    __table_args__ = (UniqueConstraint("sender", "identifier", name="uq_cap_message_sender"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    sent: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    msg_type: Mapped[str] = mapped_column(String(20))
    state: Mapped[CapState] = mapped_column(str_enum(CapState), index=True)
    expires: Mapped[datetime | None]
    # ISTAT codes named by the areas' geocodes, and the areas' polygons as [[lat, lon], ...].
    area_istat: Mapped[list] = mapped_column(JSON, default=list)
    polygons: Mapped[list] = mapped_column(JSON, default=list)
    heat_level: Mapped[int | None] = mapped_column(SmallInteger)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("cap_message.id"))
    document: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class CampaignKind(enum.StrEnum):
    SCAM = "scam"
    HEAT_WARNING = "heat_warning"
    HEAT_CHECK = "heat_check"  # the daily call to those living alone during a heat wave
    CAP = "cap"


class CampaignState(enum.StrEnum):
    QUEUED = "queued"  # deliveries are waiting or under way
    CANCELLED = "cancelled"  # what had not gone out never will
    DONE = "done"


class ScamKind(enum.StrEnum):
    FAKE_CARABINIERE = "fake_carabiniere"
    FAKE_UTILITY_WORKER = "fake_utility_worker"
    FAKE_RELATIVE = "fake_relative"
    PHONE_FRAUD = "phone_fraud"
    OTHER = "other"


class Campaign(Base):
    """One warning to the people of an area: who, what, by which channel, until when."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind))
    state: Mapped[CampaignState] = mapped_column(str_enum(CampaignState))
    title: Mapped[str] = mapped_column(String(200))
    # The words people hear or read, by language; Italian is the fallback.
    messages: Mapped[dict] = mapped_column(JSON)
    scam_kind: Mapped[ScamKind | None] = mapped_column(str_enum(ScamKind))
    area_municipality: Mapped[str | None] = mapped_column(String(6))
    area_district: Mapped[int | None]
    with_neighbours: Mapped[bool] = mapped_column(default=True)
    channel: Mapped[str] = mapped_column(String(10))  # voice or sms
    urgent: Mapped[bool] = mapped_column(default=False)  # may ring during quiet hours
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    cap_message_id: Mapped[int | None] = mapped_column(ForeignKey("cap_message.id"))
    # Campaigns made by the system carry a key ("heat_warning:MILANO:2024-07-29",
    # "cap:17"), so a repeated sweep or a second process never makes the same one twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime]


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sweep
    SENT = "sent"  # handed to the phone network; its outcome follows
    DELIVERED = "delivered"  # SMS delivered, or call confirmed with a key press
    FAILED = "failed"
    CANCELLED = "cancelled"


class CampaignDelivery(Base):
    """One campaign to one person: at most one row each, so nobody hears it twice."""

    __tablename__ = "campaign_delivery"
    __table_args__ = (
        UniqueConstraint("campaign_id", "enrollee_id", name="uq_campaign_delivery_enrollee"),
        Index("ix_campaign_delivery_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    enrollee_id: Mapped[int] = mapped_column(ForeignKey("enrollee.id"))
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    external_id: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class NewsKind(enum.StrEnum):
    EVENT = "event"
    DEADLINE = "deadline"
    INITIATIVE = "initiative"


class NewsItem(Base):
    """Municipal news read out in the weekly call while it is valid."""

    __tablename__ = "news_item"
    __table_args__ = (Index("ix_news_item_valid", "valid_until", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NewsKind] = mapped_column(str_enum(NewsKind))
    # Empty: every municipality of the service.
    municipality: Mapped[str | None] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)  # Italian; read slowly, so short
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime]
