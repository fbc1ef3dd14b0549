"""A deterministic corpus of malformed and hostile device messages (none of them a valid alarm)."""

from __future__ import annotations

import json
import random

NASTY_VALUES = [None, True, False, 0, -1, 1.5, 2**64, -(2**63), "", "alarm", "1", [], {}, [1],
                {"seq": 1}, "x" * 500, "\u0000", "\ud7ff", "null", 1e308, -0.0]


def corpus(known_serial: str, count: int = 10_000,
           seed: int = 4) -> list[tuple[str, str, bytes, int]]:
    """(serial, leaf, payload, qos) tuples; `known_serial` is a real device, others are not."""
    rng = random.Random(seed)
    unknown = [f"ghost-{n}" for n in range(20)]
    makers = [_random_bytes, _not_an_object, _bad_json, _wrong_fields, _huge, _deep,
              _bad_status, _event_on_heartbeat_qos0, _heartbeat_bad]
    found = []
    for n in range(count):
        serial = known_serial if n % 3 else rng.choice(unknown)
        leaf, payload, qos = makers[n % len(makers)](rng)
        found.append((serial, leaf, payload, qos))
    return found


def _random_bytes(rng):
    return "events", bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))), 1


def _not_an_object(rng):
    return "events", json.dumps(rng.choice(NASTY_VALUES)).encode(), 1


def _bad_json(rng):
    samples = [b'{"seq": 1, "type": "alarm"', b"{seq: 1}", b'{"seq": NaN, "type": "alarm"}',
               b'{"seq": Infinity, "type": "alarm"}', b"\xff\xfe{}", b"{'seq': 1}", b"",
               b'{"seq": 1, "type": "alarm"}}', b'{"a":' * 3 + b"1"]
    return "events", rng.choice(samples), 1


def _wrong_fields(rng):
    body = {"seq": rng.choice(NASTY_VALUES), "type": rng.choice(["alarm", "fall", "test"]),
            "ts": "2026-11-28T22:00:00Z"}
    variant = rng.randrange(7)
    if variant == 1:
        body = {"seq": rng.randint(0, 100),
                "type": rng.choice([v for v in NASTY_VALUES if v != "alarm"] + ["ALARM", "panic"])}
    elif variant == 2:
        body = {"seq": rng.randint(0, 100), "type": "battery", "level": rng.choice(
            [None, -1, 101, "50", 50.5, True, [], 1e9])}
    elif variant == 3:
        body = {"seq": rng.randint(0, 100), "type": "power", "mains": rng.choice(
            [None, 0, 1, "false", "no", []])}
    elif variant == 4:
        body = {"seq": rng.randint(0, 100), "type": "alarm", "ts": rng.choice(
            [12, "yesterday", "2026-13-01T00:00:00Z", "2026-11-28T22:00:00", "x" * 100, []])}
    elif variant == 5:
        body = {"type": "alarm"}  # no seq
    elif variant == 6:
        body = {"seq": -rng.randint(1, 10**6), "type": "fall"}
    if variant == 0 and isinstance(body["seq"], int) and not isinstance(body["seq"], bool) \
            and 0 <= body["seq"] < 2**53:
        body["seq"] = "17"  # keep it invalid
    return "events", json.dumps(body).encode(), 1


def _huge(rng):
    size = rng.choice([3_000] * 20 + [65_000, 300_000])
    return "events", b'{"seq": 1, "type": "alarm", "pad": "' + b"A" * size + b'"}', 1


def _deep(rng):
    depth = rng.choice([100, 1000, 5000])
    return "events", b"[" * depth + b"]" * depth, 1


def _bad_status(rng):
    return "status", rng.choice([b"maybe", b"", b"ONLINE", b'{"online": true}', b"\x00"]), 1


def _event_on_heartbeat_qos0(rng):
    # Something like an alarm sent at QoS 0 on the heartbeat topic: never an alarm.
    return "heartbeat", json.dumps({"seq": rng.randint(0, 9), "type": "alarm",
                                    "battery": "low"}).encode(), 0


def _heartbeat_bad(rng):
    return "heartbeat", rng.choice([b'{"battery": -5}', b'{"battery": 900}', b"[]", b"beat",
                                    b'{"ts": 5}']), 0
