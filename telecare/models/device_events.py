"""What a device told us: its protocol events, and its online/offline transitions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telecare.models.base import Base


class DeviceEvent(Base):
    """One processed event. (device, seq) is unique: a redelivered event finds its row here."""

    __tablename__ = "device_event"
    __table_args__ = (
        UniqueConstraint("device_id", "seq", name="uq_device_event_device_seq"),
        Index("ix_device_event_device_received", "device_id", "received_at"),
        # /metrics counts the last 24 hours of events of every device at each scrape.
        Index("ix_device_event_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    # The device's own counter; NULL for transitions the server observed (offline, online),
    # which NULL-distinct unique constraints on SQLite and PostgreSQL both allow to repeat.
    # 64 bits: devices may count from a clock (protocol v1 allows up to 2^53).
    seq: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(20))  # alarm, fall, test, battery, power, offline...
    device_ts: Mapped[datetime | None]  # the device's clock, as sent; not trusted for ordering
    received_at: Mapped[datetime]
    detail: Mapped[dict] = mapped_column(default=dict)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarm.id", ondelete="SET NULL"))


class DeviceCommand(Base):
    """A command waiting for the bridge to publish it (help_coming when someone takes charge).

    Written in the same transaction as its cause, so a command is never lost when the web
    process and the bridge are different processes, or when the bridge is down.
    """

    __tablename__ = "device_command"
    __table_args__ = (Index("ix_device_command_pending", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    command: Mapped[str] = mapped_column(String(40))
    fields: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
