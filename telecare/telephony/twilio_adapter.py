"""The Twilio adapter: twilio-python behind the telephony port, with retries and a rate limit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from telecare.settings import Settings
from telecare.telephony.port import OutboundCall, OutboundSms, TelephonyError
from telecare.telephony.ratelimit import TokenBucket

log = logging.getLogger(__name__)

# Twilio error codes that no retry can fix: the number is wrong or has opted out.
PERMANENT_CODES = frozenset({21211, 21214, 21217, 21612, 21614, 21610, 21408})
RETRIES = 4
BACKOFF_SECONDS = 0.5


class RewritingHttpClient(TwilioHttpClient):
    """twilio-python has no base-URL setting: send its requests to `api_url` instead."""

    def __init__(self, api_url: str, **kwargs):
        super().__init__(**kwargs)
        target = urlsplit(api_url)
        self._scheme, self._netloc = target.scheme, target.netloc

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


def twilio_client(settings: Settings) -> Client:
    twilio = settings.twilio
    # A timeout, so a hung connection is a transient error, not a stuck sweep.
    http_client = (RewritingHttpClient(twilio.api_url, timeout=10) if twilio.api_url
                   else TwilioHttpClient(timeout=10))
    return Client(twilio.account_sid, twilio.auth_token, http_client=http_client)


def classify(exc: Exception) -> TelephonyError:
    """Permanent (bad number, unsubscribed, bad request) or transient (429, 5xx, timeout)."""
    if isinstance(exc, TwilioRestException):
        code = exc.code
        transient = exc.status == 429 or exc.status >= 500 or code == 20429
        permanent = not transient and (code in PERMANENT_CODES or 400 <= exc.status < 500)
        return TelephonyError(f"Twilio {exc.status} error {code}: {exc.msg}", permanent, code,
                              bad_number=code in PERMANENT_CODES)
    return TelephonyError(f"Twilio unreachable: {exc}", permanent=False)


class TwilioTelephony:
    """Calls and SMS through Twilio (or the local stand-in at TELECARE_TWILIO_API_URL)."""

    def __init__(self, settings: Settings, *, client: Client | None = None,
                 bucket: TokenBucket | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.client = client or twilio_client(settings)
        self.bucket = bucket or TokenBucket(settings.telephony.calls_per_second)
        self._sleep = sleep

    def place_call(self, call: OutboundCall) -> str:
        def create():
            self.bucket.acquire()  # every attempt counts against the account's limit
            return self.client.calls.create(
                to=call.to, from_=self.settings.twilio.from_, url=call.twiml_url,
                method="POST", status_callback=call.status_url, status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                machine_detection="Enable", timeout=call.ring_timeout)

        return self._with_retries("call", create).sid

    def send_sms(self, sms: OutboundSms) -> str:
        def create():
            return self.client.messages.create(to=sms.to, from_=self.settings.twilio.from_,
                                               body=sms.body, status_callback=sms.status_url)

        return self._with_retries("sms", create).sid

    def hang_up(self, call_sid: str) -> None:
        self._with_retries("hang-up",
                           lambda: self.client.calls(call_sid).update(status="completed"))

    def _with_retries(self, what: str, action):
        delay = BACKOFF_SECONDS
        for attempt in range(1, RETRIES + 1):
            try:
                return action()
            except (TwilioException, OSError) as exc:
                error = classify(exc)
                if error.permanent or attempt == RETRIES:
                    raise error from exc
                log.warning("%s: %s; retry %d in %.1f s", what, error, attempt, delay)
                self._sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
