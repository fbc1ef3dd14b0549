"""Call attempts: place one, answer Twilio's webhooks for it, record its outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from blinker import Namespace
from sqlalchemy.orm import Session, sessionmaker

from telecare.clock import Clock
from telecare.courtesy import call_flow
from telecare.models import CallAttempt, CallOutcome
from telecare.settings import Settings
from telecare.telephony.callbacks import first_time, standing, unusable, writing
from telecare.telephony.outcome import FINAL_STATUSES, call_outcome, is_machine
from telecare.telephony.port import OutboundCall, Telephony, TelephonyError
from telecare.telephony.ratelimit import contact_limit_reached
from telecare.telephony.twiml import MAX_PROMPTS, OPERATOR_DIGIT, Script, voices

log = logging.getLogger(__name__)

signals = Namespace()
# Sent inside the webhook's transaction, so a listener's writes commit with the call's.
# key_pressed: (session, attempt=, digits=, now=), for the attempt's expected key and its
# `choices`; call_ended: (session, attempt=, now=) once an attempt has its outcome. The
# escalation engine connects to both: a contact pressing 1 takes charge of an alarm.
key_pressed = signals.signal("call-key-pressed")
call_ended = signals.signal("call-ended")


class ContactLimitReached(TelephonyError):
    """Too many non-critical calls to this number lately; try later."""


@dataclass(frozen=True)
class CallUrls:
    voice: str
    gather: str
    status: str


def call_urls(settings: Settings, attempt_id: int) -> CallUrls:
    base = f"{settings.public_url.rstrip('/')}/twilio/calls/{attempt_id}"
    return CallUrls(f"{base}/voice", f"{base}/gather", f"{base}/status")


class Dialer:
    """Places calls: each attempt is stored (and committed) before Twilio hears of it."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session],
                 telephony: Telephony, clock: Clock):
        self.settings, self.sessions, self.telephony, self.clock = (
            settings, sessions, telephony, clock)

    def call(self, to: str, *, purpose: str, script: str, language: str = "it",
             params: dict | None = None, expected_digit: str = "1") -> int:
        """Place a call; returns the attempt's id. Raises TelephonyError if it cannot start."""
        limits = self.settings.telephony
        now = self.clock.now()
        with writing(self.sessions) as session:
            reason = unusable(session, to)
            if reason:
                raise TelephonyError(f"{to}: {reason}", permanent=True, bad_number=True)
            if contact_limit_reached(session, to, purpose, now, limit=limits.contact_calls,
                                     window=timedelta(minutes=limits.contact_window_minutes)):
                raise ContactLimitReached(f"{to}: already called {limits.contact_calls} times "
                                          f"in {limits.contact_window_minutes} minutes")
            attempt = CallAttempt(to_number=to, purpose=purpose, script=script,
                                  language=language, params=params or {},
                                  expected_digit=expected_digit, status="placing",
                                  created_at=now, updated_at=now)
            session.add(attempt)
            session.flush()
            attempt_id = attempt.id
        urls = call_urls(self.settings, attempt_id)
        try:
            sid = self.telephony.place_call(OutboundCall(
                to=to, twiml_url=urls.voice, status_url=urls.status,
                ring_timeout=limits.ring_timeout))
        except TelephonyError as exc:
            with writing(self.sessions) as session:
                attempt = session.get(CallAttempt, attempt_id)
                attempt.status, attempt.outcome = "failed", CallOutcome.FAILED
                attempt.error, attempt.permanent_error = exc.message, exc.permanent
                attempt.ended_at = attempt.updated_at = self.clock.now()
                if exc.bad_number:
                    standing(session, to, attempt.ended_at).permanent_error = exc.message
            raise
        with writing(self.sessions) as session:
            attempt = session.get(CallAttempt, attempt_id)
            attempt.call_sid = attempt.call_sid or sid
            if attempt.status == "placing":
                attempt.status = "queued"
            attempt.updated_at = self.clock.now()
        return attempt_id


def attempt_for_callback(session: Session, attempt_id: int, call_sid: str) -> CallAttempt | None:
    """The attempt a callback is about, or None if it is not one of ours."""
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None or not call_sid:
        return None
    if attempt.call_sid is None:
        # Twilio can call back before the create request has returned us the CallSid.
        attempt.call_sid = call_sid
    elif attempt.call_sid != call_sid:
        return None
    return attempt


def _script(settings: Settings, attempt: CallAttempt) -> Script:
    return Script(attempt.language, voices(settings.telephony.voices).get(attempt.language))


def voice_twiml(session: Session, settings: Settings, attempt: CallAttempt, form,
                now) -> str:
    """What to say when the call is answered, or when the prompt is replayed."""
    urls = call_urls(settings, attempt.id)
    answered_by = form.get("AnsweredBy", "")
    if answered_by:
        attempt.answered_by = answered_by
    if attempt.answered_at is None:
        attempt.answered_at = now
    attempt.updated_at = now
    script = _script(settings, attempt)
    if is_machine(attempt.answered_by):
        return script.closing("voicemail")
    if attempt.purpose == call_flow.PURPOSE:
        return call_flow.voice(session, settings, attempt, script, urls, now)
    if attempt.prompts >= MAX_PROMPTS:
        return script.closing("goodbye")
    attempt.prompts += 1
    return script.prompt(attempt.script, attempt.params, attempt.expected_digit,
                         gather_url=urls.gather, replay_url=urls.voice)


def gather_twiml(session: Session, settings: Settings, attempt: CallAttempt, digits: str,
                 now) -> str:
    """A key was pressed: the expected one confirms; 0 reaches an operator; others replay."""
    script = _script(settings, attempt)
    attempt.digits = (attempt.digits + digits)[-20:]
    attempt.updated_at = now
    if attempt.purpose == call_flow.PURPOSE:
        return call_flow.gather(session, settings, attempt, script, call_urls(settings, attempt.id),
                                digits, now)
    if digits == attempt.expected_digit:
        attempt.confirmed_at = attempt.confirmed_at or now
        key_pressed.send(session, attempt=attempt, digits=digits, now=now)
        return script.closing(attempt.params.get("thanks", "thanks"))
    # Other meaningful keys, with the line that closes the call: {"9": "help_on_the_way"}.
    choices = attempt.params.get("choices") or {}
    if digits in choices:
        key_pressed.send(session, attempt=attempt, digits=digits, now=now)
        return script.closing(choices[digits])
    operator = attempt.params.get("operator", "")
    if digits == OPERATOR_DIGIT and operator:
        return script.bridge(operator, settings.twilio.from_)
    if attempt.prompts >= MAX_PROMPTS:
        return script.closing("goodbye")
    return script.retry(call_urls(settings, attempt.id).voice)


def apply_call_status(session: Session, settings: Settings, attempt: CallAttempt, form,
                      now) -> bool:
    """Record a status callback once; False for a replay (same CallSid and SequenceNumber)."""
    key = f"call:{attempt.call_sid}:{form.get('SequenceNumber', '')}:{form['CallStatus']}"
    if not first_time(session, key, now):
        return False
    status = form["CallStatus"]
    if attempt.status in FINAL_STATUSES:
        return True  # a late "ringing" after "completed" changes nothing
    attempt.status = status
    if form.get("AnsweredBy"):
        attempt.answered_by = form["AnsweredBy"]
    attempt.updated_at = now
    outcome = call_outcome(status, attempt.answered_by, attempt.confirmed_at is not None)
    if outcome is not None:
        attempt.outcome = outcome
        attempt.ended_at = now
        log.info("call %s to %s: %s", attempt.id, attempt.to_number, outcome.value)
        if attempt.purpose == call_flow.PURPOSE:
            call_flow.ended(session, settings, attempt, now)
        call_ended.send(session, attempt=attempt, now=now)
    return True
