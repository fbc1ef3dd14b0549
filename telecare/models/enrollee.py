"""The enrolled person, their phones and their contacts (key holders among them)."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, String, Text, Time, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecare.models.base import Base, str_enum


class EnrolleeState(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


class Sex(enum.StrEnum):
    FEMALE = "F"
    MALE = "M"


class PhoneKind(enum.StrEnum):
    LANDLINE = "landline"
    MOBILE = "mobile"


class CallMode(enum.StrEnum):
    """How the weekly call is made."""

    AUTOMATED = "automated"  # the system rings and plays the script
    OPERATOR = "operator"  # an operator calls, from the worklist


class Relation(enum.StrEnum):
    NEIGHBOUR = "neighbour"
    FRIEND = "friend"
    FAMILY = "family"
    DOCTOR = "doctor"
    OTHER = "other"


class Enrollee(Base):
    __tablename__ = "enrollee"
    __table_args__ = (
        # One active (or suspended) enrolment per person; an ended one may be followed by a new one.
        Index(
            "uq_enrollee_current_codice_fiscale",
            "codice_fiscale",
            unique=True,
            sqlite_where=text("state != 'ended'"),
            postgresql_where=text("state != 'ended'"),
        ),
        Index("ix_enrollee_last_first", "last_name", "first_name"),
        # Campaign targeting counts the active people of a few municipalities among a million:
        # this index answers it without touching the table.
        Index("ix_enrollee_municipality_state", "municipality_istat", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, 1))
    birth_date: Mapped[date] = mapped_column(Date)
    codice_fiscale: Mapped[str] = mapped_column(String(16), index=True)
    language: Mapped[str] = mapped_column(String(8), default="it")

    address_street: Mapped[str] = mapped_column(String(200))
    address_postal_code: Mapped[str] = mapped_column(String(10), default="")
    address_floor: Mapped[str] = mapped_column(String(40), default="")
    municipality_istat: Mapped[str] = mapped_column(String(6))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # The city district (Milan's Municipio) the coordinates fall in; set by campaigns, never
    # guessed from the postal code.
    district: Mapped[int | None] = mapped_column(index=True)

    lives_alone: Mapped[bool] = mapped_column(Boolean, default=False)
    health_notes: Mapped[str] = mapped_column(Text, default="")
    access_notes: Mapped[str] = mapped_column(Text, default="")

    # Consent to the service and to the processing of health data, as signed.
    consent_date: Mapped[date | None] = mapped_column(Date)
    consent_note: Mapped[str] = mapped_column(Text, default="")
    # Set when the person is younger than the minimum age: the social worker's reason.
    age_exception_reason: Mapped[str] = mapped_column(Text, default="")

    # The weekly call: the weekday (0 Monday .. 6 Sunday) and local time window the person
    # chose, and how it is made. No weekday: the planner chooses one within capacity.
    call_weekday: Mapped[int | None]
    call_window_start: Mapped[time | None] = mapped_column(Time)
    call_window_end: Mapped[time | None] = mapped_column(Time)
    call_mode: Mapped[CallMode] = mapped_column(str_enum(CallMode), default=CallMode.AUTOMATED,
                                                server_default=CallMode.AUTOMATED.value)

    state: Mapped[EnrolleeState] = mapped_column(
        str_enum(EnrolleeState), default=EnrolleeState.ACTIVE, index=True
    )
    state_reason: Mapped[str] = mapped_column(Text, default="")
    enrolled_at: Mapped[datetime]
    state_changed_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When the personal data were erased (telecare.privacy), the retention after the end of
    # the enrolment having passed: the row stays, anonymised, so its alarms and calls still
    # count in the statistics. NULL while the record holds the person's data.
    erased_at: Mapped[datetime | None]

    phones: Mapped[list[EnrolleePhone]] = relationship(
        back_populates="enrollee", order_by="EnrolleePhone.position", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="enrollee", order_by="Contact.position", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    @property
    def key_holders(self) -> list[Contact]:
        return [c for c in self.contacts if c.holds_key]


class EnrolleePhone(Base):
    __tablename__ = "enrollee_phone"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollee_id: Mapped[int] = mapped_column(
        ForeignKey("enrollee.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    kind: Mapped[PhoneKind] = mapped_column(str_enum(PhoneKind))
    position: Mapped[int] = mapped_column(default=0)

    enrollee: Mapped[Enrollee] = relationship(back_populates="phones")


class Contact(Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollee_id: Mapped[int] = mapped_column(
        ForeignKey("enrollee.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[Relation] = mapped_column(str_enum(Relation))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    can_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="it")
    # The order in which the contact ladder tries them: 0 first.
    position: Mapped[int] = mapped_column(default=0)
    holds_key: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")

    enrollee: Mapped[Enrollee] = relationship(back_populates="contacts")
