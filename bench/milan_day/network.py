"""The phone network, played in-process on the simulated clock.

It is the telephony port the product's Dialer and Messenger talk to (place_call, send_sms),
and it plays Twilio's side of each call through the very functions the web app's
`/twilio/...` webhooks call (voice_twiml, gather_twiml, apply_call_status, apply_sms_status),
each in its own writing transaction, at the simulated moment the callee would pick up,
press a key or hang up. The TwiML the product answers is read as Twilio would: <Say> takes
time to hear, a <Gather> waits for the callee's key or its timeout, <Redirect> fetches the
next document. What each callee does comes from `people`.
"""

from __future__ import annotations

import itertools
import logging
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bench.milan_day import figures
from bench.milan_day.agenda import Agenda
from bench.milan_day.people import Conduct, People
from telecare.courtesy import call_flow
from telecare.db import begin_writing, session_scope
from telecare.models import CallAttempt, SmsMessage
from telecare.settings import Settings
from telecare.telephony.calls import (
    apply_call_status,
    attempt_for_callback,
    gather_twiml,
    voice_twiml,
)
from telecare.telephony.port import OutboundCall, OutboundSms
from telecare.telephony.sms import apply_sms_status

log = logging.getLogger(__name__)

DOCUMENTS_PER_CALL = 40  # a TwiML loop is the product's bug: the line is dropped
OPERATOR_TALK_S = 120.0  # a call put through to the operators' line (0 pressed)
GATHER_DEFAULT_S = 5.0  # Twilio's default <Gather timeout>


@dataclass
class Line:
    """One call on the network, from ringing to its last status callback."""

    attempt_id: int
    sid: str
    to: str
    purpose: str
    checks_button: bool  # a weekly call that will ask for the pendant
    conduct: Conduct
    documents: int = 0
    sequence: int = 0


class PhoneNetwork:
    def __init__(self, agenda: Agenda, sessions: sessionmaker[Session], settings: Settings,
                 people: People, on_button_request: Callable[[int, float], None]):
        self.agenda, self.sessions, self.settings, self.people = (
            agenda, sessions, settings, people)
        self.on_button_request = on_button_request  # (enrollee, seconds from now)
        self._sids = itertools.count(1)
        self.calls: Counter = Counter()  # placed, by purpose
        self.texts = 0
        self.errors: list[str] = []

    # -- the telephony port ----------------------------------------------------------------

    def place_call(self, call: OutboundCall) -> str:
        attempt_id = int(call.twiml_url.rstrip("/").split("/")[-2])  # .../calls/<id>/voice
        with self.sessions() as session:
            attempt = session.get(CallAttempt, attempt_id)
            purpose, script = attempt.purpose, attempt.script
            checks_button = bool(attempt.params.get("button"))
        sid = f"CA{next(self._sids):032x}"
        line = Line(attempt_id, sid, call.to, purpose, checks_button,
                    self.people.conduct(call.to, purpose, script))
        self.calls[purpose.split(":")[0]] += 1
        pickup = line.conduct.pickup
        if pickup == "no-answer":
            self.agenda.after(call.ring_timeout, self._end, line, "no-answer")
        elif pickup == "busy":
            self.agenda.after(line.conduct.ring_s, self._end, line, "busy")
        else:
            self.agenda.after(line.conduct.ring_s, self._voice, line)
        return sid

    def send_sms(self, sms: OutboundSms) -> str:
        sms_id = int(sms.status_url.rstrip("/").split("/")[-2])  # .../sms/<id>/status
        sid = f"SM{next(self._sids):032x}"
        self.texts += 1
        self.agenda.after(figures.SMS_DELIVERED_S, self._sms_delivered, sms_id, sid)
        return sid

    def hang_up(self, call_sid: str) -> None:
        pass  # nothing in the day hangs up a call of ours

    # -- Twilio's webhooks, as the web app runs them ----------------------------------------

    def _voice(self, line: Line) -> None:
        answered_by = "machine_end_beep" if line.conduct.pickup == "machine" else "human"
        body = self._webhook(line, lambda session, attempt, now: voice_twiml(
            session, self.settings, attempt, {"CallSid": line.sid, "AnsweredBy": answered_by},
            now))
        self._play(line, body)

    def _gather(self, line: Line, digits: str) -> None:
        body = self._webhook(line, lambda session, attempt, now: gather_twiml(
            session, self.settings, attempt, digits, now))
        if (line.purpose == call_flow.PURPOSE and digits == call_flow.WELL_DIGIT
                and line.checks_button and line.conduct.tests_button and body):
            # "Press your alarm button now": they do, once they have heard the request.
            enrollee = self.people.enrollee_of.get(line.to)
            if enrollee is not None:
                self.on_button_request(enrollee, _spoken_s(body) + self.people.button_test_s())
        self._play(line, body)

    def _end(self, line: Line, status: str) -> None:
        line.sequence += 1
        form = {"CallSid": line.sid, "CallStatus": status, "SequenceNumber": str(line.sequence)}
        if status == "completed":
            form["AnsweredBy"] = ("machine_end_beep" if line.conduct.pickup == "machine"
                                  else "human")
        self._webhook(line, lambda session, attempt, now: apply_call_status(
            session, self.settings, attempt, form, now))

    def _sms_delivered(self, sms_id: int, sid: str) -> None:
        try:
            with session_scope(self.sessions) as session:
                begin_writing(session)
                sms = session.get(SmsMessage, sms_id)
                apply_sms_status(session, sms, {"MessageSid": sid,
                                                "MessageStatus": "delivered"},
                                 self.agenda.clock.now())
        except Exception as exc:  # counted and shown: the day goes on, as Twilio's would
            log.exception("sms %s: the delivery callback failed", sms_id)
            self.errors.append(f"sms {sms_id}: {exc}")

    def _webhook(self, line: Line, work) -> str | None:
        """One callback in its own transaction, committed before the TwiML is played."""
        line.documents += 1
        try:
            with session_scope(self.sessions) as session:
                begin_writing(session)  # as the web app does for every POST
                attempt = attempt_for_callback(session, line.attempt_id, line.sid)
                if attempt is None:
                    raise LookupError(f"no call attempt {line.attempt_id} for {line.sid}")
                return work(session, attempt, self.agenda.clock.now())
        except Exception as exc:
            log.exception("call %s: a webhook failed", line.attempt_id)
            self.errors.append(f"call {line.attempt_id}: {exc}")
            return None

    # -- the callee's side ---------------------------------------------------------------------

    def _play(self, line: Line, body: str | None) -> None:
        """Hear a TwiML document; plan the key, the next fetch or the hang-up it leads to."""
        if body is None or line.documents > DOCUMENTS_PER_CALL:
            self.agenda.after(1.0, self._end, line, "completed")  # Twilio gives up the call
            return
        elapsed = 0.0
        for verb in ET.fromstring(body):
            if verb.tag == "Gather":
                elapsed += sum(_heard_s(inner) for inner in verb)
                key = line.conduct.next_key()
                if key:
                    self.agenda.after(elapsed + self.people.think_s(), self._gather, line, key)
                    return
                elapsed += float(verb.get("timeout") or GATHER_DEFAULT_S)  # silence
            elif verb.tag == "Redirect":
                self.agenda.after(elapsed, self._voice, line)
                return
            elif verb.tag == "Dial":
                elapsed += OPERATOR_TALK_S
            elif verb.tag in ("Hangup", "Reject"):
                break
            else:
                elapsed += _heard_s(verb)
        self.agenda.after(max(elapsed, 1.0), self._end, line, "completed")


def _heard_s(verb) -> float:
    """How long a <Say> or <Pause> keeps the line."""
    if verb.tag == "Pause":
        return float(verb.get("length") or 1)
    if verb.tag == "Say":
        return len("".join(verb.itertext()).split()) / figures.WORDS_PER_S
    return 0.0


def _spoken_s(body: str) -> float:
    """Everything said in a document: the time to the end of its last line."""
    return sum(_heard_s(verb) for verb in ET.fromstring(body).iter()
               if verb.tag in ("Say", "Pause"))
