"""The local Twilio stand-in: a real HTTP server, simulated people, signed callbacks."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import requests
from twilio.request_validator import RequestValidator

from telecare.twilio_sim.api import Api
from telecare.twilio_sim.people import Behaviour, Person
from telecare.twilio_sim.phone import Phone
from telecare.twilio_sim.player import CallPlayer
from telecare.twilio_sim.resources import API_VERSION, ApiError, SimCall, SimMessage, new_sid, now
from telecare.twilio_sim.server import ApiServer

log = logging.getLogger(__name__)


class TwilioSim:
    """Twilio, as far as our adapter and webhooks can tell. Start it, point the adapter at `url`."""

    def __init__(self, account_sid: str, auth_token: str, *, host: str = "127.0.0.1",
                 port: int = 0, sms_url: str = "", press_wait: float = 10.0,
                 default: Behaviour = Behaviour.ANSWER, default_keys: list[str] | None = None,
                 pause_scale: float = 0.0, cast: Callable[[str], Person] | None = None):
        self.account_sid, self.auth_token = account_sid, auth_token
        # <Pause length="10">, and a scripted person's silence at a <Gather timeout="10">,
        # last 10 × this many real seconds (0: simulated time, nobody waits).
        self.pause_scale = pause_scale
        # Who is at a number nobody has scripted (the demo's varied city); None: everybody
        # there behaves as `default`, pressing `default_keys`.
        self.cast = cast
        self.sms_url = sms_url  # where inbound SMS are posted (our /twilio/sms/inbound)
        self.press_wait = press_wait
        self.default, self.default_keys = default, default_keys
        self.api = Api(self)
        self.server = ApiServer(self, host, port)
        self.calls: list[SimCall] = []
        self.calls_by_sid: dict[str, SimCall] = {}
        self.messages: list[SimMessage] = []
        self.messages_by_sid: dict[str, SimMessage] = {}
        self.people: dict[str, Person] = {}
        self.unsubscribed: set[str] = set()
        # Every non-2xx answer (or no answer) from the app's webhooks: a test must see these.
        self.errors: list[str] = []
        self.call_created_at: list[float] = []  # time.monotonic() of each accepted create
        self._faults: deque[ApiError] = deque()
        self._lock = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._validator = RequestValidator(auth_token)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> TwilioSim:
        self._threads.append(self.server.start())
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for call in self.calls:
            call.hang_up_requested.set()
            call.keys.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    # People ---------------------------------------------------------------------------------

    def person(self, number: str, behaviour: Behaviour | str | None = None,
               keys: list[str] | None = None, **options) -> Person:
        """The person at `number`; given a behaviour, (re)scripts them."""
        with self._lock:
            if behaviour is not None or keys is not None or options:
                behaviour = Behaviour(behaviour) if behaviour else self.default
                self.people[number] = Person(number, behaviour, keys, **options)
            elif number not in self.people:
                self.people[number] = (self.cast(number) if self.cast is not None
                                       else Person(number, self.default, self.default_keys))
            return self.people[number]

    def phone(self, number: str) -> Phone:
        """The test language: `sim.phone(n).expect_call().heard("Buongiorno").press("1")`."""
        return Phone(self, number.replace(" ", ""))

    # Faults ---------------------------------------------------------------------------------

    def fail_next(self, status: int, code: int, message: str = "", times: int = 1) -> None:
        """The next `times` create requests get this error (429/20429, 503, ...)."""
        with self._lock:
            for _ in range(times):
                self._faults.append(ApiError(status, code, message or f"Error {code}"))

    def take_fault(self) -> ApiError | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    # Resources ------------------------------------------------------------------------------

    def add_call(self, call: SimCall) -> None:
        person = self.person(call.to)
        with self._lock:
            self.calls.append(call)
            self.calls_by_sid[call.sid] = call
            self.call_created_at.append(time.monotonic())
            call.expected = not person.interactive  # a scripted person was declared
            self._lock.notify_all()
        player = CallPlayer(call, person, self._post, self.press_wait, self.pause_scale)
        self._spawn(player.run, f"call-{call.sid[:10]}")

    def add_message(self, message: SimMessage) -> None:
        with self._lock:
            self.messages.append(message)
            self.messages_by_sid[message.sid] = message
            self._lock.notify_all()
        self._spawn(lambda: self._deliver(message), f"sms-{message.sid[:10]}")

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _deliver(self, message: SimMessage) -> None:
        final = self.person(message.to).sms_status
        for status in ("sent", final):
            message.status, message.updated = status, now()
            if status == "sent":
                message.sent = message.updated
            params = {"AccountSid": self.account_sid, "MessageSid": message.sid,
                      "SmsSid": message.sid, "MessageStatus": status, "SmsStatus": status,
                      "From": message.from_, "To": message.to, "ApiVersion": API_VERSION}
            if status in {"undelivered", "failed"}:
                message.error_code, message.error_message = 30003, "Unreachable destination"
                params["ErrorCode"] = "30003"
            if message.status_callback:
                self._post(message.status_callback, params)

    def receive_sms(self, from_: str, body: str, to: str = "+390200000000") -> int | None:
        """A person texts the service: Twilio posts it, signed, to our inbound webhook."""
        word = body.strip().upper()
        if word in {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}:
            self.unsubscribed.add(from_)  # Twilio itself blocks further messages
        elif word in {"START", "YES", "UNSTOP"}:
            self.unsubscribed.discard(from_)
        sid = new_sid("SM")
        message = SimMessage(sid=sid, account_sid=self.account_sid, to=to, from_=from_,
                             body=body, status_callback="", direction="inbound",
                             status="received", expected=True)
        with self._lock:
            self.messages.append(message)
            self.messages_by_sid[sid] = message
        params = {"AccountSid": self.account_sid, "MessageSid": sid, "SmsSid": sid,
                  "SmsMessageSid": sid, "From": from_, "To": to, "Body": body,
                  "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
                  "ApiVersion": API_VERSION}
        return self._post(self.sms_url, params, status_only=True)

    # Callbacks ------------------------------------------------------------------------------

    def sign(self, url: str, params: dict) -> str:
        return self._validator.compute_signature(url, params)

    def _post(self, url: str | None, params: dict | None, *, error: str = "",
              status_only: bool = False):
        """POST a signed callback; the body (TwiML) on 2xx, else None and a recorded error."""
        if error:
            self._error(error)
            return None
        headers = {"X-Twilio-Signature": self.sign(url, params),
                   "User-Agent": "TwilioProxy/1.1"}
        try:
            response = requests.post(url, data=params, headers=headers, timeout=15)
        except requests.RequestException as exc:
            self._error(f"POST {url}: no answer ({exc})")
            return None
        if not 200 <= response.status_code < 300:
            self._error(f"POST {url}: {response.status_code} {response.text[:200]!r}")
            return response.status_code if status_only else None
        return response.status_code if status_only else response.text

    def _error(self, message: str) -> None:
        log.error("stand-in: %s", message)
        with self._lock:
            self.errors.append(message)
            self._lock.notify_all()

    # Waiting and checking -------------------------------------------------------------------

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "condition"):
        """Poll (bounded) until predicate() is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                if self.errors:  # the app already failed: say so now, not at the timeout
                    raise AssertionError(f"while waiting for {what}: {self.errors}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                self._lock.wait(min(left, 0.05))

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Until every call has ended and every SMS has its final status."""
        self.wait_for(lambda: all(c.done.is_set() for c in self.calls) and all(
            m.status not in {"queued", "sent"} for m in self.messages), timeout,
            "every call and SMS to finish")

    def assert_no_unexpected(self) -> None:
        """No webhook error, and nothing sent that the test did not expect."""
        assert not self.errors, f"the app answered the stand-in badly: {self.errors}"
        calls = [f"call to {c.to}" for c in self.calls if not c.expected]
        texts = [f"SMS to {m.to}: {m.body!r}" for m in self.messages if not m.expected]
        assert not calls + texts, f"unexpected: {calls + texts}"

    def report(self) -> dict:
        """What each call did and what each person heard: GET /_sim/calls.json."""
        return {"calls": [{"sid": c.sid, "to": c.to, "status": c.status,
                           "answered_by": c.answered_by, "heard": c.heard,
                           "pressed": c.pressed, "dialed": c.dialed} for c in self.calls],
                "messages": [{"sid": m.sid, "to": m.to, "from": m.from_, "body": m.body,
                              "status": m.status} for m in self.messages],
                "errors": self.errors}
