"""Device protocol v1: topics and payloads parsed into values, or a ProtocolError naming why."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

ROOT = "telecare/v1/devices/"
EVENT_TYPES = frozenset({"alarm", "fall", "test", "battery", "power"})
# Serials are what devices log in with; keep them to characters that are safe in a topic,
# a Mosquitto password file and a log line.
SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_SEQ = 2**53  # beyond this a JSON number stops being an exact integer in many devices' stacks
_HEARTBEAT_LEAF = "/heartbeat"
_ROOT_LEN = len(ROOT)
_HEARTBEAT_LEN = len(_HEARTBEAT_LEAF)
# The shortest topic with a serial segment (even an empty one) before /heartbeat.
_MIN_HEARTBEAT_TOPIC = _ROOT_LEN + _HEARTBEAT_LEN
# Timestamps of heartbeats lately found valid: a fleet's heartbeats of one second carry the
# same few strings, and each is checked in full (_timestamp) the first time it is seen.
_GOOD_TS: set[str] = set()
MAX_GOOD_TS = 1024


class ProtocolError(ValueError):
    """The message is not protocol v1; the text says what is wrong, for the log."""


@dataclass(frozen=True)
class Event:
    serial: str
    seq: int
    type: str
    ts: datetime | None
    level: int | None = None  # battery events
    mains: bool | None = None  # power events


@dataclass(frozen=True)
class Heartbeat:
    serial: str
    ts: datetime | None
    battery: int | None


@dataclass(frozen=True)
class Status:
    serial: str
    online: bool


Message = Event | Heartbeat | Status


def topic(serial: str, leaf: str) -> str:
    return f"{ROOT}{serial}/{leaf}"


def event_subscriptions(shared_group: str = "") -> list[tuple[str, int]]:
    """The bridge's QoS 1 topic filters; `$share/<group>/` splits them among bridges."""
    prefix = f"$share/{shared_group}/" if shared_group else ""
    return [(f"{prefix}{ROOT}+/events", 1), (f"{prefix}{ROOT}+/status", 1)]


def heartbeat_subscriptions(shared_group: str = "") -> list[tuple[str, int]]:
    prefix = f"$share/{shared_group}/" if shared_group else ""
    return [(f"{prefix}{ROOT}+/heartbeat", 0)]


def sender(name: str) -> str:
    """Who a message claims to come from: the device segment of its topic, for the log."""
    return name.removeprefix(ROOT).split("/", 1)[0][:64]


def split_topic(name: str) -> tuple[str, str]:
    """The serial and the leaf (events, heartbeat, status) of a device topic."""
    if not name.startswith(ROOT):
        raise ProtocolError(f"topic outside the protocol: {name[:120]!r}")
    parts = name[len(ROOT):].split("/")
    if len(parts) != 2 or parts[1] not in {"events", "heartbeat", "status"}:
        raise ProtocolError(f"topic outside the protocol: {name[:120]!r}")
    if not SERIAL.match(parts[0]):
        raise ProtocolError(f"not a device serial: {parts[0][:80]!r}")
    return parts[0], parts[1]


def parse(name: str, payload: bytes, max_bytes: int = 2048) -> Message:
    """Read one message of a device topic."""
    serial, leaf = split_topic(name)
    if len(payload) > max_bytes:
        raise ProtocolError(f"payload of {len(payload)} bytes, more than {max_bytes}")
    if leaf == "status":
        return Status(serial, _status(payload))
    body = _json_object(payload)
    if leaf == "heartbeat":
        battery = body.get("battery")
        return Heartbeat(serial, _timestamp(body.get("ts"), required=False),
                         None if battery is None else _percent(battery, "battery"))
    return _event(serial, body)


def heartbeat(name: str, payload: bytes, max_bytes: int = 2048) -> tuple[str, int | None]:
    """A heartbeat's serial and battery: what `parse` accepts on a heartbeat topic, and only that.

    The heartbeat process's hot path (thousands a second): the same checks as `parse` and the
    same ProtocolError for what fails them, but no Heartbeat built and no `ts` turned into a
    datetime (ingest does not use it; a `ts` is still refused unless _timestamp accepts it).
    Any other topic goes through `parse`, and fails with its error or as "not a heartbeat".
    """
    if not (name.startswith(ROOT) and name.endswith(_HEARTBEAT_LEAF)
            and len(name) >= _MIN_HEARTBEAT_TOPIC):
        parse(name, payload, max_bytes)
        raise ProtocolError(f"not a heartbeat on {name[-20:]}")
    serial = name[_ROOT_LEN:-_HEARTBEAT_LEN]
    if "/" in serial:
        raise ProtocolError(f"topic outside the protocol: {name[:120]!r}")
    if not SERIAL.match(serial):
        raise ProtocolError(f"not a device serial: {serial[:80]!r}")
    if len(payload) > max_bytes:
        raise ProtocolError(f"payload of {len(payload)} bytes, more than {max_bytes}")
    body = _json_object(payload)
    ts = body.get("ts")
    if ts is not None and not (type(ts) is str and ts in _GOOD_TS):
        _timestamp(ts, required=False)  # raises ProtocolError unless a valid time
        if len(_GOOD_TS) >= MAX_GOOD_TS:
            _GOOD_TS.clear()
        _GOOD_TS.add(ts)
    battery = body.get("battery")
    if battery is None or (type(battery) is int and 0 <= battery <= 100):
        return serial, battery
    return serial, _percent(battery, "battery")


def _event(serial: str, body: dict) -> Event:
    seq = body.get("seq")
    if not _is_int(seq) or not 0 <= seq < MAX_SEQ:
        raise ProtocolError(f"seq: expected a whole number from 0, got {_show(seq)}")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise ProtocolError(f"type: expected one of {', '.join(sorted(EVENT_TYPES))}, "
                            f"got {_show(kind)}")
    ts = _timestamp(body.get("ts"), required=False)
    if kind == "battery":
        return Event(serial, seq, kind, ts, level=_percent(body.get("level"), "level"))
    if kind == "power":
        mains = body.get("mains")
        if not isinstance(mains, bool):
            raise ProtocolError(f"mains: expected true or false, got {_show(mains)}")
        return Event(serial, seq, kind, ts, mains=mains)
    return Event(serial, seq, kind, ts)


def _status(payload: bytes) -> bool:
    text = payload.strip()
    # Devices send the bare word; a JSON string ("online" in quotes) is accepted too.
    if text in (b"online", b'"online"'):
        return True
    if text in (b"offline", b'"offline"'):
        return False
    raise ProtocolError(f"status: expected online or offline, got {text[:40]!r}")


def _json_object(payload: bytes) -> dict:
    try:
        text = payload.decode("utf-8")
        if text[:1] == "{":
            # The usual case, scanned directly; anything the scan leaves over (whitespace,
            # extra data) goes through decode(), which accepts or refuses it as loads() does.
            try:
                body, end = _SCAN(text, 0)
            except StopIteration:
                end = -1
            if end != len(text):
                body = _DECODER.decode(text)
        else:
            body = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(body, dict):
        raise ProtocolError(f"expected a JSON object, got {type(body).__name__}")
    return body


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


# A decoder made once: json.loads with an argument builds a new JSONDecoder on every call,
# which cost more than the parsing of a heartbeat itself.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_SCAN = _DECODER.scan_once


def _timestamp(value, *, required: bool) -> datetime | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ProtocolError(f"ts: expected an ISO 8601 UTC time, got {_show(value)}")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProtocolError(f"ts: expected an ISO 8601 UTC time, got {_show(value)}") from None
    if ts.tzinfo is None:
        raise ProtocolError(f"ts: expected a time zone (Z), got {_show(value)}")
    return ts.astimezone(UTC)


def _percent(value, name: str) -> int:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not _is_int(value) or not 0 <= value <= 100:
        raise ProtocolError(f"{name}: expected a percentage 0-100, got {_show(value)}")
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value) -> str:
    return repr(value)[:60]


def command(cmd: str, **fields) -> bytes:
    """A command's payload for `telecare/v1/devices/{serial}/commands`."""
    return json.dumps({"cmd": cmd, **fields}, separators=(",", ":")).encode()
