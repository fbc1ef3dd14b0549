"""SMS: send with status callbacks; inbound replies ("OK 4821"), STOP and START."""

from __future__ import annotations

import re
from dataclasses import dataclass

from blinker import Namespace
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from telecare.clock import Clock
from telecare.models import NumberStanding, SmsMessage
from telecare.settings import Settings
from telecare.telephony.callbacks import first_time, standing, writing
from telecare.telephony.port import OutboundSms, Telephony, TelephonyError

signals = Namespace()
# Sent with the session, the sender's number and the code of an "OK 4821" reply; the
# escalation engine connects to it to acknowledge the alarm that code names.
acknowledgement_received = signals.signal("sms-acknowledgement-received")

# Twilio's own opt-out and opt-in keywords (its Advanced Opt-Out defaults), plus Italian.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOCA"})
START_WORDS = frozenset({"START", "YES", "UNSTOP", "ATTIVA"})
# Lenient: people type "OK 4821", "ok4821", "Ok, 4821!", "4821 ok", "sì 4821" or the code
# alone; anything else with words in it is not taken as taking charge.
_YES = r"(?:ok|okay|o\.k\.|si|sì|yes|va\s+bene|preso|presa)"
ACKNOWLEDGEMENT = re.compile(
    rf"^\W*(?:{_YES}\W*)?(\d{{3,8}})(?:\W*{_YES})?(?:\W*(?:grazie|thanks|thank\s+you))?\W*$",
    re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    """How an inbound SMS was read: keyword stop/start, an acknowledgement code, or other."""

    kind: str  # stop, start, acknowledgement, other, replay
    code: str = ""


def read_reply(body: str) -> Reply:
    word = body.strip().upper().rstrip(".!")
    if word in STOP_WORDS:
        return Reply("stop")
    if word in START_WORDS:
        return Reply("start")
    match = ACKNOWLEDGEMENT.match(body)
    if match:
        return Reply("acknowledgement", match.group(1))
    return Reply("other")


def sms_status_url(settings: Settings, sms_id: int) -> str:
    return f"{settings.public_url.rstrip('/')}/twilio/sms/{sms_id}/status"


class Messenger:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session],
                 telephony: Telephony, clock: Clock):
        self.settings, self.sessions, self.telephony, self.clock = (
            settings, sessions, telephony, clock)

    def send(self, to: str, body: str, *, purpose: str = "") -> int:
        """Send a text; returns its id. An unsubscribed number gets nothing."""
        now = self.clock.now()
        with writing(self.sessions) as session:
            row = session.get(NumberStanding, to)
            if row is not None and (row.unsubscribed or row.permanent_error):
                raise TelephonyError(f"{to}: {'unsubscribed' if row.unsubscribed else ''}"
                                     f"{row.permanent_error}", permanent=True,
                                     bad_number=True)
            sms = SmsMessage(direction="outbound", number=to, body=body, purpose=purpose,
                             status="accepted", created_at=now, updated_at=now)
            session.add(sms)
            session.flush()
            sms_id = sms.id
        try:
            sid = self.telephony.send_sms(OutboundSms(to, body, sms_status_url(self.settings,
                                                                               sms_id)))
        except TelephonyError as exc:
            with writing(self.sessions) as session:
                sms = session.get(SmsMessage, sms_id)
                sms.status, sms.error, sms.updated_at = "failed", exc.message, self.clock.now()
                if exc.bad_number:
                    standing(session, to, sms.updated_at).permanent_error = exc.message
            raise
        with writing(self.sessions) as session:
            sms = session.get(SmsMessage, sms_id)
            sms.message_sid = sms.message_sid or sid
            if sms.status == "accepted":
                sms.status = "queued"
        return sms_id


def apply_sms_status(session: Session, sms: SmsMessage, form, now) -> bool:
    key = f"sms:{form.get('MessageSid', '')}:{form['MessageStatus']}"
    if not first_time(session, key, now):
        return False
    if sms.message_sid is None:
        sms.message_sid = form.get("MessageSid") or None
    sms.status = form["MessageStatus"]
    if form.get("ErrorCode"):
        sms.error = f"Twilio error {form['ErrorCode']}"
    sms.updated_at = now
    return True


def receive_sms(session: Session, form, now) -> Reply:
    """Store an inbound SMS and act on it: STOP, START, or an acknowledgement code."""
    sid, number, body = form["MessageSid"], form["From"], form.get("Body", "")
    if session.scalar(select(SmsMessage.id).where(SmsMessage.message_sid == sid)):
        return Reply("replay")
    session.add(SmsMessage(message_sid=sid, direction="inbound", number=number, body=body,
                           status="received", created_at=now, updated_at=now))
    session.flush()
    reply = read_reply(body)
    if reply.kind == "stop":
        row = standing(session, number, now)
        row.unsubscribed, row.updated_at = True, now
    elif reply.kind == "start":
        row = standing(session, number, now)
        row.unsubscribed, row.updated_at = False, now
    elif reply.kind == "acknowledgement":
        acknowledgement_received.send(session, number=number, code=reply.code, now=now)
    return reply
