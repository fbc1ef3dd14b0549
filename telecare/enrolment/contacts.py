"""A person's contacts, one at a time: add, edit, remove, reorder; every change audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime

from sqlalchemy.orm import Session

from telecare import audit
from telecare.actor import Actor
from telecare.enrolment.record import ContactInput, _read_contacts
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import Contact, Enrollee
from telecare.privacy import erasure
from telecare.settings import EnrolmentSettings

_PREFIX = "contacts[1]."


def read_contact(raw: Mapping, policy: EnrolmentSettings) -> ContactInput:
    """One contact checked by the same rules as a whole record; errors name the bare field."""
    errors: list[FieldError] = []
    # The record reader numbers contacts (contacts[1].phone); a single contact's form
    # names its fields plainly (phone).
    contacts = _read_contacts([raw], policy, errors)
    if errors:
        raise ValidationFailed([
            FieldError(e.field.removeprefix(_PREFIX), e.template, e.params) for e in errors
        ])
    return contacts[0]


def add_contact(session: Session, enrollee: Enrollee, data: ContactInput, actor: Actor,
                now: datetime) -> Contact:
    """The new contact goes last on the ladder."""
    erasure.refuse_if_erased(enrollee)
    contact = Contact(position=len(enrollee.contacts), **asdict(data))
    enrollee.contacts.append(contact)
    session.flush()
    _touch(session, enrollee, "add_contact", contact, actor, now)
    return contact


def update_contact(session: Session, contact: Contact, data: ContactInput, actor: Actor,
                   now: datetime) -> list[str]:
    """Replace the contact's details; returns the names of the fields that changed."""
    changed = []
    for name, value in asdict(data).items():
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
    if changed:
        # Field names only, as for the record itself: no copy of personal data in the log.
        _touch(session, contact.enrollee, "update_contact", contact, actor, now, fields=changed)
    return changed


def remove_contact(session: Session, contact: Contact, actor: Actor, now: datetime) -> None:
    enrollee = contact.enrollee
    contact_id = contact.id
    ladder = _ladder(enrollee)
    ladder.remove(contact)
    enrollee.contacts.remove(contact)
    _renumber(ladder)
    session.flush()
    enrollee.updated_at = now
    audit.record(session, actor, "remove_contact", "enrollee", enrollee.id, now,
                 contact=contact_id)


def move_contact(session: Session, contact: Contact, offset: int, actor: Actor,
                 now: datetime) -> None:
    """Move up (-1) or down (+1) the ladder; moving past either end is refused."""
    ladder = _ladder(contact.enrollee)
    index = ladder.index(contact)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(ladder):
        raise ValidationFailed([FieldError("position", N_("cannot move this contact there"))])
    ladder[index], ladder[target] = ladder[target], ladder[index]
    _renumber(ladder)
    contact.enrollee.contacts = ladder  # the loaded list in ladder order too
    _touch(session, contact.enrollee, "move_contact", contact, actor, now,
           position=contact.position + 1)


def _ladder(enrollee: Enrollee) -> list[Contact]:
    return sorted(enrollee.contacts, key=lambda c: (c.position, c.id or 0))


def _renumber(ladder: list[Contact]) -> None:
    for position, contact in enumerate(ladder):
        contact.position = position


def _touch(session: Session, enrollee: Enrollee, action: str, contact: Contact, actor: Actor,
           now: datetime, **detail) -> None:
    enrollee.updated_at = now
    audit.record(session, actor, action, "enrollee", enrollee.id, now, contact=contact.id,
                 **detail)
