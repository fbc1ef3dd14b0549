"""The telephony port: what the service asks of a phone network, whoever provides it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Purposes that may phone a contact however often: someone may be on the floor.
CRITICAL_PURPOSES = frozenset({"alarm", "escalation"})


class TelephonyError(Exception):
    """One error for every channel; `permanent` errors are recorded and never retried."""

    def __init__(self, message: str, permanent: bool = False, code: int | None = None,
                 bad_number: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        # The number itself is at fault (invalid, unsubscribed): it is recorded and never
        # used again. Other permanent errors (wrong credentials, a malformed request) are
        # the service's to fix and say nothing about the number.
        self.bad_number = bad_number


@dataclass(frozen=True)
class OutboundCall:
    to: str  # E.164
    twiml_url: str
    status_url: str
    ring_timeout: int = 30


@dataclass(frozen=True)
class OutboundSms:
    to: str
    body: str
    status_url: str


class Telephony(Protocol):
    def place_call(self, call: OutboundCall) -> str:
        """Start a call; returns the provider's call id (Twilio's CallSid)."""

    def send_sms(self, sms: OutboundSms) -> str:
        """Send a text; returns the provider's message id (Twilio's MessageSid)."""

    def hang_up(self, call_sid: str) -> None:
        """End a call in progress (or cancel one still ringing)."""
