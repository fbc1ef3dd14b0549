"""Planned calls: the weekly courtesy call, the reassurance call after an alarm, birthdays.

One row per call the centre means to make (enrollee, kind, the local day it is for); its
attempts are logged beside it. `next_attempt_at` is the sweep's due time: the scheduler
claims due rows atomically, so a restart loses none and two processes never ring twice.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecare.models.base import Base, str_enum
from telecare.models.enrollee import CallMode, Enrollee


class CallKind(enum.StrEnum):
    COURTESY = "courtesy"  # the weekly call
    REASSURANCE = "reassurance"  # the day after an alarm
    BIRTHDAY = "birthday"


class PlannedCallState(enum.StrEnum):
    PLANNED = "planned"  # waiting for next_attempt_at
    CALLING = "calling"  # an attempt is under way (ringing, or open on an operator's screen)
    DONE = "done"  # somebody answered
    MISSED = "missed"  # every attempt went unanswered: an alarm was opened
    CANCELLED = "cancelled"  # the enrolment ended or was suspended


class CallResult(enum.StrEnum):
    """What one attempt, or the planned call as a whole, came to."""

    WELL = "well"  # answered and all is well
    CONCERN = "concern"  # answered, with something for social services to follow
    HELP = "help_requested"  # pressed 9 (or said so): an alarm is open
    OPERATOR = "operator"  # pressed 0: put through to an operator
    NO_ANSWER = "no_answer"  # including voicemail, busy, silence
    WRONG_NUMBER = "wrong_number"
    FAILED = "failed"  # the call could not be placed


class ButtonCheck(enum.StrEnum):
    ASKED = "asked"  # the call asked the person to press the alarm button
    VERIFIED = "verified"  # the device's `test` event arrived in time
    FLAGGED = "flagged"  # it did not: an operator should check the device
    CHECKED = "checked"  # an operator has followed the flag up


class PlannedCall(Base):
    __tablename__ = "planned_call"
    __table_args__ = (
        # One call of each kind per person and day, however many planners run.
        UniqueConstraint("enrollee_id", "kind", "occasion", name="uq_planned_call_occasion"),
        # The sweep's question: which planned calls are due.
        Index("ix_planned_call_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollee_id: Mapped[int] = mapped_column(ForeignKey("enrollee.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[CallKind] = mapped_column(str_enum(CallKind))
    mode: Mapped[CallMode] = mapped_column(str_enum(CallMode))
    occasion: Mapped[date] = mapped_column(Date)  # the local day the call is for
    planned_at: Mapped[datetime]  # the slot, UTC
    state: Mapped[PlannedCallState] = mapped_column(
        str_enum(PlannedCallState), default=PlannedCallState.PLANNED)
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    # The attempt under way: when it began (its lease), the automated call, the operator.
    attempt_started_at: Mapped[datetime | None]
    call_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempt.id"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    result: Mapped[CallResult | None] = mapped_column(str_enum(CallResult))
    button_check: Mapped[ButtonCheck | None] = mapped_column(str_enum(ButtonCheck))
    button_asked_at: Mapped[datetime | None]
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarm.id"))
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    enrollee: Mapped[Enrollee] = relationship()
    log: Mapped[list[PlannedCallLog]] = relationship(
        back_populates="planned_call", order_by="PlannedCallLog.id",
        cascade="all, delete-orphan")


class PlannedCallLog(Base):
    """One attempt's result (or an operator's note) on a planned call."""

    __tablename__ = "planned_call_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    planned_call_id: Mapped[int] = mapped_column(
        ForeignKey("planned_call.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    at: Mapped[datetime]
    result: Mapped[CallResult] = mapped_column(str_enum(CallResult))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    call_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempt.id"))
    # Why, in the system's words: "voicemail", "no-answer", the Twilio error.
    detail: Mapped[str] = mapped_column(String(200), default="")

    planned_call: Mapped[PlannedCall] = relationship(back_populates="log")
