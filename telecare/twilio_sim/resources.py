"""Twilio's resources as the stand-in keeps them, and their JSON as Twilio's API renders them."""

from __future__ import annotations

import queue
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime | None) -> str | None:
    # Twilio's dates: "Tue, 31 Aug 2010 20:36:28 +0000".
    return format_datetime(moment.astimezone(UTC)) if moment else None


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class SimCall:
    sid: str
    account_sid: str
    to: str
    from_: str
    url: str
    method: str
    twiml: str
    status_callback: str
    status_events: list[str]
    machine_detection: str
    timeout: int
    status: str = "queued"
    answered_by: str | None = None
    created: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)
    start_time: datetime | None = None
    end_time: datetime | None = None
    sequence: int = 0
    heard: list[str] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)
    dialed: list[str] = field(default_factory=list)
    # Keys from a test driving the call by hand: a digit string, "" for silence, None: hang up.
    keys: queue.Queue = field(default_factory=queue.Queue)
    hang_up_requested: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    expected: bool = False

    def as_json(self) -> dict:
        duration = None
        if self.start_time and self.end_time:
            duration = str(int((self.end_time - self.start_time).total_seconds()))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"
        return {
            "sid": self.sid, "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.updated), "parent_call_sid": None,
            "account_sid": self.account_sid, "to": self.to, "to_formatted": self.to,
            "from": self.from_, "from_formatted": self.from_, "phone_number_sid": None,
            "status": self.status, "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time), "duration": duration, "price": None,
            "price_unit": "USD", "direction": "outbound-api", "answered_by": self.answered_by,
            "api_version": API_VERSION, "forwarded_from": None, "group_sid": None,
            "caller_name": None, "queue_time": "0", "trunk_sid": None, "uri": uri,
            "subresource_uris": {
                "notifications": uri.replace(".json", "/Notifications.json"),
                "recordings": uri.replace(".json", "/Recordings.json"),
            },
        }


@dataclass
class SimMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str
    direction: str = "outbound-api"
    status: str = "queued"
    error_code: int | None = None
    error_message: str | None = None
    created: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)
    sent: datetime | None = None
    expected: bool = False

    def as_json(self) -> dict:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "body": self.body, "num_segments": "1", "direction": self.direction,
            "from": self.from_, "to": self.to, "date_updated": rfc2822(self.updated),
            "price": None, "error_message": self.error_message, "uri": uri,
            "account_sid": self.account_sid, "num_media": "0", "status": self.status,
            "messaging_service_sid": None, "sid": self.sid, "date_sent": rfc2822(self.sent),
            "date_created": rfc2822(self.created), "error_code": self.error_code,
            "price_unit": "USD", "api_version": API_VERSION,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        }


class ApiError(Exception):
    """An error as Twilio's REST API reports it: HTTP status, code, message, more_info."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def as_json(self) -> dict:
        return {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status}
