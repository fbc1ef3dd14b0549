"""Alarms and their append-only timelines."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecare.models.base import Base, str_enum
from telecare.models.device import Device
from telecare.models.enrollee import Enrollee


class AlarmKind(enum.StrEnum):
    BUTTON = "button"
    FALL = "fall"
    HELP_REQUESTED = "help_requested"
    MISSED_COURTESY_CALLS = "missed_courtesy_calls"
    DEVICE_OFFLINE = "device_offline"
    LOW_BATTERY = "low_battery"
    POWER_LOSS = "power_loss"


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    LOW = "low"


class AlarmState(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Outcome(enum.StrEnum):
    FALSE_ALARM = "false_alarm"
    RESOLVED_BY_PHONE = "resolved_by_phone"
    CONTACT_ATTENDED = "contact_attended"
    DOCTOR = "doctor"
    EMERGENCY_SERVICES = "emergency_services"
    HOSPITALISED = "hospitalised"
    OTHER = "other"


class Alarm(Base):
    __tablename__ = "alarm"
    __table_args__ = (
        # One unresolved alarm per enrollee and kind: repeats join its timeline.
        Index(
            "uq_alarm_unresolved_enrollee_kind",
            "enrollee_id",
            "kind",
            unique=True,
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
        Index("ix_alarm_state_opened", "state", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollee_id: Mapped[int | None] = mapped_column(ForeignKey("enrollee.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    kind: Mapped[AlarmKind] = mapped_column(str_enum(AlarmKind, 40))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    state: Mapped[AlarmState] = mapped_column(str_enum(AlarmState), default=AlarmState.OPEN)
    opened_at: Mapped[datetime]
    last_event_at: Mapped[datetime]
    # A self-clearing condition (device back online) that still wants an acknowledgement.
    cleared_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    acknowledged_via: Mapped[str] = mapped_column(String(20), default="")
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome))
    outcome_note: Mapped[str] = mapped_column(Text, default="")

    enrollee: Mapped[Enrollee | None] = relationship()
    device: Mapped[Device | None] = relationship()
    events: Mapped[list[AlarmEvent]] = relationship(
        back_populates="alarm", order_by="AlarmEvent.id", cascade="all, delete-orphan"
    )


class AlarmEvent(Base):
    """One line of an alarm's timeline: never updated, never deleted."""

    __tablename__ = "alarm_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarm.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))  # opened, repeated, acknowledged, call, note...
    actor: Mapped[str] = mapped_column(String(100), default="system")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    detail: Mapped[dict] = mapped_column(default=dict)

    alarm: Mapped[Alarm] = relationship(back_populates="events")
