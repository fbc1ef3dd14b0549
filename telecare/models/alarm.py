"""Alarms and their append-only timelines."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecare.models.base import Base, str_enum
from telecare.models.device import Device
from telecare.models.enrollee import Enrollee


class AlarmKind(enum.StrEnum):
    BUTTON = "button"
    FALL = "fall"
    HELP_REQUESTED = "help_requested"
    MISSED_COURTESY_CALLS = "missed_courtesy_calls"
    # A person living alone did not answer the daily call of a heat wave (or could not be
    # called at all): nobody knows how they are.
    HEAT_CHECK_UNANSWERED = "heat_check_unanswered"
    DEVICE_OFFLINE = "device_offline"
    LOW_BATTERY = "low_battery"
    POWER_LOSS = "power_loss"
    SERVICE_STALLED = "service_stalled"  # a part of the service itself went silent


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
        # The escalation sweep finds what is due through this, never by a scan.
        Index("ix_alarm_next_step_at", "next_step_at"),
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

    # Escalation. The ladder is the policy's, copied (and made concrete: this person's
    # contacts, in their order) when the engine takes the alarm up; editing the policy
    # afterwards changes nothing here.
    code: Mapped[str] = mapped_column(String(8), default="")  # "OK <code>" by SMS takes charge
    policy: Mapped[str] = mapped_column(String(40), default="")
    ladder: Mapped[list] = mapped_column(JSON, default=list)
    step: Mapped[int] = mapped_column(default=-1)  # index in the ladder; -1 not taken up yet
    # When the engine must next act: the next rung while open, the acknowledgement timeout
    # while acknowledged; None when it has nothing more to do.
    next_step_at: Mapped[datetime | None]
    time_box_at: Mapped[datetime | None]  # unacknowledged by then: supervisor and emergency
    ack_timeout_s: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None]  # the emergency step was reached
    # The first time someone took charge: what the answer-time figures count.
    first_acknowledged_at: Mapped[datetime | None]
    # The person said they are all right on the call-back: an operator still closes it.
    probable_false_alarm: Mapped[bool] = mapped_column(default=False)
    # The operator working on it: a second operator cannot claim it too.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    claimed_at: Mapped[datetime | None]

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


class NotificationState(enum.StrEnum):
    PENDING = "pending"  # decided, not yet handed to the phone network
    SENDING = "sending"  # claimed by one process, which is placing it
    SENT = "sent"  # the call is ringing or the text is on its way
    CONFIRMED = "confirmed"  # the person pressed the key that takes charge
    UNANSWERED = "unanswered"  # the call ended without that key
    FAILED = "failed"  # could not be placed or delivered
    CANCELLED = "cancelled"  # someone took charge before it was placed


class AlarmNotification(Base):
    """One call or text of an alarm's ladder. Its key is unique: nobody is phoned twice."""

    __tablename__ = "alarm_notification"
    __table_args__ = (Index("ix_alarm_notification_state", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarm.id", ondelete="CASCADE"), index=True)
    # alarm:step:target:channel:attempt, e.g. "42:3:contact-7:voice:1".
    key: Mapped[str] = mapped_column(String(120), unique=True)
    step: Mapped[int]
    target: Mapped[str] = mapped_column(String(40))  # enrollee, contact-7, supervisor-2
    name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(10))  # voice, sms
    number: Mapped[str] = mapped_column(String(20))  # E.164
    language: Mapped[str] = mapped_column(String(8), default="it")
    state: Mapped[NotificationState] = mapped_column(
        str_enum(NotificationState), default=NotificationState.PENDING)
    call_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempt.id"),
                                                        index=True)
    sms_id: Mapped[int | None] = mapped_column(ForeignKey("sms_message.id"))
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EscalationPolicy(Base):
    """An administrator's edit of a kind's policy; kinds without a row use config/."""

    __tablename__ = "escalation_policy"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    document: Mapped[dict] = mapped_column(default=dict)  # the policy, as in the TOML file
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
