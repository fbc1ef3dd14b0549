"""What campaigns know: the heat-wave bulletin's levels, city by city and day by day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telecare.models.base import Base


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
