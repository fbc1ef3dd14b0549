"""Campaign deliveries over the telephony layer: a warning call or a text, and what became of it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery import check_failed
from telecare.models import (
    CallAttempt,
    CallOutcome,
    Campaign,
    CampaignDelivery,
    DeliveryState,
    SmsMessage,
)
from telecare.settings import CampaignSettings
from telecare.telephony.calls import Dialer
from telecare.telephony.sms import Messenger

SMS_DELIVERED = {"delivered"}
SMS_FAILED = {"failed", "undelivered"}


class TelephonySender:
    """campaigns.delivery.Sender over the Dialer and the Messenger."""

    def __init__(self, dialer: Dialer, messenger: Messenger):
        self.dialer, self.messenger = dialer, messenger

    def send(self, *, to: str, channel: str, language: str, text: str, purpose: str,
             name: str = "") -> str:
        if channel == "sms":
            return f"sms:{self.messenger.send(to, text, purpose=purpose)}"
        # A heat-wave check asks how the person is; any other campaign asks them to confirm.
        script = "heat_check" if purpose == "campaign:heat_check" else "warning"
        attempt = self.dialer.call(to, purpose=purpose, script=script, language=language,
                                   params={"name": name, "text": text}, expected_digit="1")
        return f"call:{attempt}"


def follow_outcomes(session: Session, settings: CampaignSettings, now: datetime) -> int:
    """Move sent deliveries on from their call's or text's outcome; returns how many moved.

    Only a key press counts as heard: voicemail, no answer, busy and silence are retried
    like a failure, up to the attempts allowed. A heat check unheard after the last attempt
    opens a `heat_check_unanswered` alarm for the person (see delivery.check_failed).
    """
    # Read the waiting few columns, then only the calls and texts that have ended: most of
    # what is sent is still ringing, and loading each row every pass cost a query apiece.
    waiting: dict[str, dict[int, int]] = {"call": {}, "sms": {}}
    for delivery_id, external_id in session.execute(
            select(CampaignDelivery.id, CampaignDelivery.external_id)
            .where(CampaignDelivery.state == DeliveryState.SENT)):
        kind, _, ident = external_id.partition(":")
        if kind in waiting and ident.isdigit():
            waiting[kind][int(ident)] = delivery_id
    ended: dict[int, tuple[bool, str]] = {}  # delivery id: (heard, reason)
    for ids in _chunks(list(waiting["call"])):
        for attempt_id, outcome in session.execute(
                select(CallAttempt.id, CallAttempt.outcome)
                .where(CallAttempt.id.in_(ids), CallAttempt.outcome.is_not(None))):
            heard = outcome == CallOutcome.CONFIRMED
            ended[waiting["call"][attempt_id]] = (heard, "" if heard else outcome.value)
    for ids in _chunks(list(waiting["sms"])):
        for sms_id, status, error in session.execute(
                select(SmsMessage.id, SmsMessage.status, SmsMessage.error)
                .where(SmsMessage.id.in_(ids),
                       SmsMessage.status.in_(sorted(SMS_DELIVERED | SMS_FAILED)))):
            heard = status in SMS_DELIVERED
            ended[waiting["sms"][sms_id]] = (heard, "" if heard else (error or status))
    for ids in _chunks(sorted(ended)):
        for delivery in session.scalars(select(CampaignDelivery).where(
                CampaignDelivery.id.in_(ids), CampaignDelivery.state == DeliveryState.SENT)):
            heard, reason = ended[delivery.id]
            _moved_on(session, settings, delivery, heard, reason, now)
    return len(ended)


def _moved_on(session: Session, settings: CampaignSettings, delivery: CampaignDelivery,
              heard: bool, reason: str, now: datetime) -> None:
    delivery.updated_at = now
    if heard:
        delivery.state, delivery.reason = DeliveryState.DELIVERED, ""
    elif delivery.attempts < settings.max_attempts:
        delivery.state, delivery.reason = DeliveryState.QUEUED, reason
        delivery.next_attempt_at = now + timedelta(minutes=settings.retry_minutes)
    else:
        delivery.state, delivery.reason = DeliveryState.FAILED, reason
        check_failed(session, delivery, session.get(Campaign, delivery.campaign_id), now)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    """IN lists kept short: SQLite limits a statement's variables."""
    return [ids[start:start + size] for start in range(0, len(ids), size)]
