"""Delivering a campaign: queue each recipient once, send when it is not night, retry, track.

A sweep claims a batch of due deliveries with one conditional UPDATE (healthchecks' pattern;
RETURNING says which rows this process got), so two processes never send the same warning
twice and a restart loses nothing: the state lives in `campaign_delivery`, not in the
scheduler. A delivery left claimed by a process that stopped before recording it is failed
after a lease, never sent again (it may have gone out).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from telecare import alarms
from telecare.actor import Actor
from telecare.db import begin_writing
from telecare.models import (
    AlarmKind,
    Campaign,
    CampaignDelivery,
    CampaignKind,
    CampaignState,
    DeliveryState,
    Enrollee,
    EnrolleePhone,
    PhoneKind,
    Severity,
)
from telecare.quiet import quiet_until
from telecare.settings import CampaignSettings
from telecare.telephony.port import TelephonyError

log = logging.getLogger(__name__)
# A claimed delivery is sent and recorded within seconds; one still claimed after this was
# left by a process that stopped.
SENDING_LEASE = timedelta(minutes=10)


class Sender(Protocol):
    def send(self, *, to: str, channel: str, language: str, text: str, purpose: str,
             name: str = "") -> str:
        """Hand one message to the phone network; returns its id. Raises TelephonyError."""


def queue(session: Session, campaign: Campaign, recipients, now: datetime) -> int:
    """One delivery per recipient (a select of enrollee ids), skipping anyone already queued."""
    already = exists().where(CampaignDelivery.campaign_id == campaign.id,
                             CampaignDelivery.enrollee_id == Enrollee.id)
    chosen = (select(literal(campaign.id), Enrollee.id, literal(DeliveryState.QUEUED.value),
                     literal(0), literal(now, type_=CampaignDelivery.next_attempt_at.type),
                     literal(""), literal(""), literal(now, type_=CampaignDelivery.updated_at.type))
              .where(Enrollee.id.in_(recipients), ~already))
    result = session.execute(insert(CampaignDelivery).from_select(
        ["campaign_id", "enrollee_id", "state", "attempts", "next_attempt_at", "external_id",
         "reason", "updated_at"], chosen).returning(CampaignDelivery.id))
    # Counted from RETURNING: psycopg reports no row count for INSERT ... SELECT.
    return len(result.all())


def cancel(session: Session, campaign: Campaign, now: datetime) -> int:
    """Withdraw a campaign: what has not gone out never will. Returns the deliveries stopped."""
    campaign.state = CampaignState.CANCELLED
    result = session.execute(
        update(CampaignDelivery)
        .where(CampaignDelivery.campaign_id == campaign.id,
               CampaignDelivery.state == DeliveryState.QUEUED)
        .values(state=DeliveryState.CANCELLED, reason="campaign cancelled", updated_at=now,
                next_attempt_at=None))
    return result.rowcount


@dataclass
class SweepReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0  # put off until the quiet hours end
    errors: list[str] = field(default_factory=list)


def deliver_due(sessions: sessionmaker[Session], sender: Sender, settings: CampaignSettings,
                zone: ZoneInfo, now: datetime, limit: int = 100) -> SweepReport:
    """Send what is due now: claimed as a batch, then each sent and recorded on its own."""
    report = SweepReport()
    with sessions() as session:
        begin_writing(session)  # reads, then claims: a writer from the start on SQLite
        report.deferred = _defer_quiet(session, settings, zone, now)
        report.failed += _abandon_stale(session, now)
        due = session.scalars(
            select(CampaignDelivery.id)
            .where(CampaignDelivery.state == DeliveryState.QUEUED,
                   CampaignDelivery.next_attempt_at <= now)
            .order_by(CampaignDelivery.next_attempt_at, CampaignDelivery.id).limit(limit)).all()
        claimed = set(session.scalars(
            update(CampaignDelivery)
            .where(CampaignDelivery.id.in_(due), CampaignDelivery.state == DeliveryState.QUEUED)
            .values(state=DeliveryState.SENDING, updated_at=now)
            .returning(CampaignDelivery.id)
            .execution_options(synchronize_session=False)).all()) if due else set()
        session.commit()  # another process's sweep now passes these by
    for delivery_id in (d for d in due if d in claimed):
        with sessions() as session:
            try:
                _send_one(session, sender, settings, delivery_id, now, report)
            except Exception as exc:  # one bad row must not stop the sweep
                session.rollback()
                log.exception("delivery %s: unexpected error", delivery_id)
                _fail(session, delivery_id, f"unexpected error: {exc}", now)
                report.failed += 1
            session.commit()
    return report


def _abandon_stale(session: Session, now: datetime) -> int:
    """Claimed by a process that stopped before recording what became of it: failed.

    Never sent again: the call or text may have gone out. A heat check so ended opens its
    alarm, as an unanswered one does: nobody knows how the person is.
    """
    stale = session.scalars(select(CampaignDelivery).where(
        CampaignDelivery.state == DeliveryState.SENDING,
        CampaignDelivery.updated_at < now - SENDING_LEASE)).all()
    for delivery in stale:
        delivery.state, delivery.next_attempt_at, delivery.updated_at = (
            DeliveryState.FAILED, None, now)
        delivery.reason = "abandoned: the process sending it stopped before recording it"
        log.warning("delivery %s: %s", delivery.id, delivery.reason)
        check_failed(session, delivery, session.get(Campaign, delivery.campaign_id), now)
    return len(stale)


def _defer_quiet(session: Session, settings: CampaignSettings, zone: ZoneInfo,
                 now: datetime) -> int:
    until = quiet_until(now, zone, settings.quiet_start, settings.quiet_end)
    if until is None:
        return 0
    not_urgent = select(Campaign.id).where(Campaign.urgent.is_(False))
    return session.execute(
        update(CampaignDelivery)
        .where(CampaignDelivery.state == DeliveryState.QUEUED,
               CampaignDelivery.next_attempt_at <= now,
               CampaignDelivery.campaign_id.in_(not_urgent))
        .values(next_attempt_at=until)).rowcount


def _send_one(session: Session, sender: Sender, settings: CampaignSettings, delivery_id: int,
              now: datetime, report: SweepReport) -> None:
    # One query for the three rows: this runs for every warning to every person.
    delivery, campaign, enrollee = session.execute(
        select(CampaignDelivery, Campaign, Enrollee)
        .join(Campaign, Campaign.id == CampaignDelivery.campaign_id)
        .join(Enrollee, Enrollee.id == CampaignDelivery.enrollee_id)
        .where(CampaignDelivery.id == delivery_id)).one()
    number = phone_for(session, enrollee.id, campaign.channel)
    language = enrollee.language if enrollee.language in campaign.messages else "it"
    message = {"channel": campaign.channel, "language": language,
               "text": campaign.messages.get(language) or campaign.messages.get("it", ""),
               "purpose": f"campaign:{campaign.kind.value}", "name": enrollee.full_name}
    cancelled = campaign.state == CampaignState.CANCELLED
    # No transaction stays open while the phone network is called: on SQLite it would hold
    # the write lock the telephony layer needs to record the call, on PostgreSQL row locks.
    session.commit()
    delivery.attempts += 1
    delivery.updated_at = now
    if cancelled:
        delivery.state, delivery.reason = DeliveryState.CANCELLED, "campaign cancelled"
        return
    if number is None:
        delivery.state = DeliveryState.FAILED
        delivery.reason = f"no {'mobile ' if campaign.channel == 'sms' else ''}phone number"
        report.failed += 1
        # Nobody can ring a heat check through to a person without a phone: left alone and
        # unchecked in a heat wave, they are an operator's to find another way.
        check_failed(session, delivery, campaign, now)
        return
    try:
        external_id = sender.send(to=number, **message)
    except TelephonyError as exc:
        delivery.reason = exc.message
        if exc.permanent or delivery.attempts >= settings.max_attempts:
            delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
            report.failed += 1
            # A number the network refuses, or a network down for every attempt: the person
            # was never asked how they are, just as if they had not answered.
            check_failed(session, delivery, campaign, now)
        else:
            delivery.state = DeliveryState.QUEUED
            delivery.next_attempt_at = now + timedelta(minutes=settings.retry_minutes)
            report.retried += 1
        return
    delivery.state, delivery.next_attempt_at, delivery.reason = DeliveryState.SENT, None, ""
    delivery.external_id = external_id
    report.sent += 1


def _fail(session: Session, delivery_id: int, reason: str, now: datetime) -> None:
    session.execute(update(CampaignDelivery).where(CampaignDelivery.id == delivery_id)
                    .values(state=DeliveryState.FAILED, reason=reason, updated_at=now,
                            next_attempt_at=None))
    # A fault of ours stopped the call, but the person it was for is as unchecked as one who
    # did not answer. In a savepoint: should opening the alarm be what failed, the delivery
    # must still be recorded failed, not left claimed forever.
    try:
        with session.begin_nested():
            delivery = session.get(CampaignDelivery, delivery_id, populate_existing=True)
            if delivery is not None:
                check_failed(session, delivery, session.get(Campaign, delivery.campaign_id),
                             now)
    except Exception:
        log.exception("delivery %s: could not open its heat-check alarm", delivery_id)


def check_failed(session: Session, delivery: CampaignDelivery, campaign: Campaign,
                 now: datetime) -> None:
    """A delivery has just ended failed: if it was a heat check, an operator must know.

    A person living alone who could not be reached on a heat wave's daily call may be ill
    from the heat, so a `heat_check_unanswered` alarm opens for them, as three missed weekly
    calls open `missed_courtesy_calls`. Warnings that fail stay failed deliveries: they told,
    they did not ask. A second failure while the alarm is unresolved joins its timeline.
    """
    if campaign.kind != CampaignKind.HEAT_CHECK:
        return
    alarms.raise_alarm(session, enrollee_id=delivery.enrollee_id,
                       kind=AlarmKind.HEAT_CHECK_UNANSWERED, severity=Severity.HIGH, now=now,
                       actor=Actor.system(), campaign=campaign.id, title=campaign.title,
                       delivery=delivery.id, attempts=delivery.attempts,
                       reason=delivery.reason)


def phone_for(session: Session, enrollee_id: int, channel: str) -> str | None:
    """The number to use: the first phone in the person's order; for SMS, the first mobile."""
    query = select(EnrolleePhone.number).where(EnrolleePhone.enrollee_id == enrollee_id)
    if channel == "sms":
        query = query.where(EnrolleePhone.kind == PhoneKind.MOBILE)
    return session.scalars(query.order_by(EnrolleePhone.position).limit(1)).first()


def delivery_report(session: Session, campaign: Campaign) -> dict[str, int]:
    """Deliveries by state; they add up to the recipients queued."""
    rows = session.execute(select(CampaignDelivery.state, func.count())
                           .where(CampaignDelivery.campaign_id == campaign.id)
                           .group_by(CampaignDelivery.state)).all()
    return {state.value: count for state, count in rows}


def finish_if_done(session: Session, campaign: Campaign) -> bool:
    """A campaign with nothing left queued, in flight or awaiting its outcome is done."""
    pending = session.scalar(select(func.count()).select_from(CampaignDelivery).where(and_(
        CampaignDelivery.campaign_id == campaign.id,
        CampaignDelivery.state.in_([DeliveryState.QUEUED, DeliveryState.SENDING,
                                    DeliveryState.SENT]))))
    if not pending and campaign.state == CampaignState.QUEUED:
        campaign.state = CampaignState.DONE
        return True
    return False
