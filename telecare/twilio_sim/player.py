"""Plays one call as Twilio would: status callbacks, TwiML fetched and interpreted, keys."""

from __future__ import annotations

import logging
import queue
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urljoin

from telecare.twilio_sim.people import Behaviour, Person
from telecare.twilio_sim.resources import API_VERSION, SimCall, now

log = logging.getLogger(__name__)
# A TwiML loop (Redirect to itself forever) is the app's bug: stop and report it.
MAX_DOCUMENTS = 30
HANG_UP = object()
GATHER_TIMEOUT = "5"  # Twilio's default <Gather timeout>, seconds


def _spoken(say) -> str:
    """What a <Say> speaks: its text and any SSML inside it (<prosody>, <break>...)."""
    return "".join(say.itertext())


class CallPlayer:
    """One call, start to end, on its own thread."""

    def __init__(self, call: SimCall, person: Person, post: Callable[..., str | None],
                 press_wait: float, pause_scale: float = 0.0):
        self.call, self.person, self.post, self.press_wait = call, person, post, press_wait
        self.pause_scale = pause_scale
        self.prompts = 0

    def run(self) -> None:
        try:
            self._play()
        except Exception:  # the stand-in must outlive any one call
            log.exception("call %s: the stand-in failed", self.call.sid)
            self.post_error(f"call {self.call.sid}: the stand-in crashed")
            self._end("failed")
        finally:
            self.call.done.set()

    def post_error(self, message: str) -> None:
        self.post(None, None, error=message)

    def _params(self, **extra) -> dict:
        call = self.call
        params = {"AccountSid": call.account_sid, "CallSid": call.sid, "From": call.from_,
                  "To": call.to, "Caller": call.from_, "Called": call.to,
                  "CallStatus": call.status, "Direction": "outbound-api",
                  "ApiVersion": API_VERSION}
        if call.answered_by:
            params["AnsweredBy"] = call.answered_by
        params.update(extra)
        return params

    def _status(self, status: str, event: str) -> None:
        call = self.call
        # "initiated" is a callback's CallStatus only; the resource itself is still "queued".
        call.status, call.updated = ("queued" if status == "initiated" else status), now()
        if not call.status_callback or event not in call.status_events:
            return
        extra = {"CallStatus": status, "SequenceNumber": str(call.sequence),
                 "CallbackSource": "call-progress-events",
                 "Timestamp": call.updated.strftime("%a, %d %b %Y %H:%M:%S +0000")}
        if call.start_time and call.end_time:
            seconds = str(int((call.end_time - call.start_time).total_seconds()))
            extra.update(CallDuration=seconds, Duration=seconds)
        call.sequence += 1
        self.post(call.status_callback, self._params(**extra))

    def _end(self, status: str) -> None:
        call = self.call
        if call.status in {"completed", "busy", "failed", "no-answer", "canceled"}:
            return
        call.end_time = now()
        if call.start_time and call.end_time <= call.start_time:
            call.end_time = call.start_time + timedelta(seconds=1)
        self._status(status, "completed")

    def _play(self) -> None:
        call, person = self.call, self.person
        self._status("initiated", "initiated")
        if call.hang_up_requested.is_set():
            return self._end("canceled")
        if person.behaviour == Behaviour.FAIL:
            return self._end("failed")
        self._status("ringing", "ringing")
        if person.behaviour == Behaviour.BUSY:
            return self._end("busy")
        if person.behaviour == Behaviour.RING:
            # Real time, bounded: the ring timeout itself is simulated as "long enough".
            call.hang_up_requested.wait(self.press_wait)
        if person.behaviour in {Behaviour.NO_ANSWER, Behaviour.RING} or \
                call.hang_up_requested.is_set():
            return self._end("no-answer" if not call.hang_up_requested.is_set() else "canceled")
        call.start_time = now()
        if call.machine_detection:
            call.answered_by = ("machine_end_beep" if person.behaviour == Behaviour.VOICEMAIL
                                else "human")
        self._status("in-progress", "answered")
        document = call.twiml or self.post(call.url, self._params())
        self._interpret(document, call.url)
        self._end("completed")
        log.info("call %s to %s: %s; heard %s; pressed %s", call.sid, call.to, call.status,
                 call.heard, call.pressed)

    def _fetch(self, url: str, base: str, **extra) -> str | None:
        return self.post(urljoin(base, url), self._params(**extra))

    def _interpret(self, document: str | None, url: str) -> None:
        for _ in range(MAX_DOCUMENTS):
            if document is None:
                return  # the app failed: Twilio says "an application error" and hangs up
            try:
                root = ET.fromstring(document)
            except ET.ParseError as exc:
                self.post_error(f"call {self.call.sid}: TwiML from {url} is not XML ({exc})")
                return
            if root.tag != "Response":
                self.post_error(f"call {self.call.sid}: TwiML root is <{root.tag}>")
                return
            following = self._verbs(root, url)
            if following is None:
                return
            document, url = following
        self.post_error(f"call {self.call.sid}: more than {MAX_DOCUMENTS} TwiML documents")

    def _verbs(self, root, url: str):
        """Run one document's verbs; the next (document, url) to play, or None to hang up."""
        for verb in root:
            if self._hung_up():
                return None
            if verb.tag == "Say":
                if self._hear(_spoken(verb)):
                    return None
            elif verb.tag == "Pause":
                if self._pause(float(verb.get("length", "1") or 1)):
                    return None
            elif verb.tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say" and self._hear(_spoken(inner)):
                        return None
                key = self._key(float(verb.get("timeout", GATHER_TIMEOUT) or GATHER_TIMEOUT))
                if key is HANG_UP:
                    return None
                if key:
                    digits = key[: int(verb.get("numDigits", "1") or 1)]
                    self.call.pressed.append(digits)
                    action = verb.get("action") or url
                    if not action:
                        return None  # inline TwiML with nowhere to send the digits
                    return self._fetch(action, url, Digits=digits), urljoin(url, action)
                # Silence: Twilio goes on with the verb after <Gather>.
            elif verb.tag == "Redirect":
                target = (verb.text or "").strip()
                return self._fetch(target, url), urljoin(url, target)
            elif verb.tag == "Dial":
                number = (verb.text or "").strip() or "".join(
                    (child.text or "").strip() for child in verb)
                self.call.dialed.append(number)
            elif verb.tag in {"Hangup", "Reject"}:
                return None
            else:
                self.post_error(f"call {self.call.sid}: the stand-in does not know <{verb.tag}>")
        return None

    def _pause(self, seconds: float) -> bool:
        """Silence on the line (a <Pause>, a scripted person's silence at a <Gather>):
        `seconds` times the stand-in's pause_scale (0 by default: simulated time, nobody
        waits); True if the call is hung up meanwhile."""
        if self.pause_scale > 0:
            return self.call.hang_up_requested.wait(seconds * self.pause_scale)
        return False

    def _hung_up(self) -> bool:
        return self.call.hang_up_requested.is_set()

    def _hear(self, text: str) -> bool:
        """The person hears a line; True if they hang up on it."""
        line = " ".join(text.split())
        self.call.heard.append(line)
        self.person.heard.append(line)
        if self.person.on_hear is not None:
            try:
                self.person.on_hear(self.person, line)
            except Exception:  # what the person does next is theirs: the call goes on
                log.exception("call %s: the listener of %s failed", self.call.sid,
                              self.person.number)
        return self.person.behaviour == Behaviour.HANG_UP

    def _key(self, timeout: float):
        """The key pressed at a <Gather>: "" for silence, HANG_UP if the call ends instead."""
        if self.person.interactive:
            try:
                key = self.call.keys.get(timeout=self.press_wait)
            except queue.Empty:
                return ""
            return HANG_UP if key is None else key
        if self.person.behaviour == Behaviour.VOICEMAIL:
            key = ""
        else:
            key = self.person.next_key(self.prompts)
            self.prompts += 1
        # A scripted silence lasts the <Gather>'s timeout, scaled like a <Pause>: the app
        # may be waiting for something to happen meanwhile (the alarm button's signal).
        if not key and self._pause(timeout):
            return HANG_UP
        return key
