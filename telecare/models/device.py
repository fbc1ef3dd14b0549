"""Alarm devices: the pendant button, a fall detector, the home base unit."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecare.models.base import Base, str_enum
from telecare.models.enrollee import Enrollee


class DeviceKind(enum.StrEnum):
    PENDANT = "pendant"
    FALL_DETECTOR = "fall_detector"
    BASE_UNIT = "base_unit"


class DeviceState(enum.StrEnum):
    IN_STOCK = "in_stock"  # provisioned, not yet given to anyone
    ACTIVE = "active"
    RETIRED = "retired"


class Device(Base):
    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    enrollee_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollee.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[DeviceKind] = mapped_column(str_enum(DeviceKind), default=DeviceKind.PENDANT)
    heartbeat_period_s: Mapped[int] = mapped_column(default=60)
    state: Mapped[DeviceState] = mapped_column(str_enum(DeviceState), default=DeviceState.IN_STOCK)
    last_seen_at: Mapped[datetime | None]
    battery: Mapped[int | None]  # percent, as last reported
    last_test_at: Mapped[datetime | None]  # the last `test` event: the button is known to work
    created_at: Mapped[datetime]
    # The watchdog's due time (last seen + period + grace), indexed so a sweep reads only the
    # overdue rows; NULL while the device is offline or has never been seen.
    offline_after: Mapped[datetime | None] = mapped_column(index=True)
    offline_since: Mapped[datetime | None]
    mains_power: Mapped[bool | None]  # False after a `power` event reporting mains lost

    enrollee: Mapped[Enrollee | None] = relationship()
