"""What campaigns know: the heat-wave bulletin's levels, and the CAP alerts received."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, SmallInteger, String, Text, UniqueConstraint
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
