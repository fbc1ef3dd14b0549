"""Telephony records: call attempts, SMS messages, processed callbacks, numbers' standing."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telecare.models.base import Base, str_enum


class CallOutcome(enum.StrEnum):
    """What became of one call attempt. Only CONFIRMED counts as answered."""

    CONFIRMED = "confirmed"  # a person pressed the expected key
    ANSWERED_NO_INPUT = "answered_no_input"
    VOICEMAIL = "voicemail"  # AnsweredBy machine_* or fax
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"


class CallAttempt(Base):
    __tablename__ = "call_attempt"
    __table_args__ = (Index("ix_call_attempt_to_created", "to_number", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Twilio's CallSid, known once the call has been created.
    call_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    to_number: Mapped[str] = mapped_column(String(20))  # E.164
    purpose: Mapped[str] = mapped_column(String(40))  # courtesy, escalation, campaign...
    script: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8), default="it")
    # Script parameters (a name, a code): what the TwiML templates are rendered with.
    params: Mapped[dict] = mapped_column(default=dict)
    expected_digit: Mapped[str] = mapped_column(String(1), default="1")
    status: Mapped[str] = mapped_column(String(20), default="placing")  # Twilio's CallStatus
    answered_by: Mapped[str] = mapped_column(String(30), default="")
    prompts: Mapped[int] = mapped_column(default=0)  # times the prompt was played
    digits: Mapped[str] = mapped_column(String(20), default="")  # keys pressed, in order
    outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome))
    error: Mapped[str] = mapped_column(Text, default="")
    permanent_error: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SmsMessage(Base):
    __tablename__ = "sms_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    direction: Mapped[str] = mapped_column(String(10))  # outbound, inbound
    number: Mapped[str] = mapped_column(String(20), index=True)  # the other party, E.164
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20))  # Twilio's MessageStatus
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProcessedCallback(Base):
    """A Twilio callback already applied: a replay of the same key changes nothing."""

    __tablename__ = "processed_callback"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    at: Mapped[datetime]


class NumberStanding(Base):
    """A phone number we must not (or cannot) use: unsubscribed by STOP, or invalid."""

    __tablename__ = "number_standing"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
    unsubscribed: Mapped[bool] = mapped_column(default=False)
    # A permanent Twilio error (21211 invalid number, 21610 unsubscribed): never retried.
    permanent_error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
