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
    moved = 0
    for delivery in session.scalars(select(CampaignDelivery).where(
            CampaignDelivery.state == DeliveryState.SENT)):
        kind, _, ident = delivery.external_id.partition(":")
        if not ident.isdigit():
            continue
        if kind == "call":
            attempt = session.get(CallAttempt, int(ident))
            if attempt is None or attempt.outcome is None:
                continue
            heard = attempt.outcome == CallOutcome.CONFIRMED
            reason = "" if heard else attempt.outcome.value
        elif kind == "sms":
            sms = session.get(SmsMessage, int(ident))
            if sms is None or sms.status not in SMS_DELIVERED | SMS_FAILED:
                continue
            heard, reason = sms.status in SMS_DELIVERED, sms.error or sms.status
        else:
            continue
        moved += 1
        delivery.updated_at = now
        if heard:
            delivery.state, delivery.reason = DeliveryState.DELIVERED, ""
        elif delivery.attempts < settings.max_attempts:
            delivery.state, delivery.reason = DeliveryState.QUEUED, reason
            delivery.next_attempt_at = now + timedelta(minutes=settings.retry_minutes)
        else:
            delivery.state, delivery.reason = DeliveryState.FAILED, reason
            check_failed(session, delivery, session.get(Campaign, delivery.campaign_id), now)
    return moved
