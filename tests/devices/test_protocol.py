"""Protocol v1 parsing: what devices may send, and what is refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devices import protocol
from devices.protocol import (
    Event,
    Heartbeat,
    ProtocolError,
    Status,
    event_subscriptions,
    heartbeat,
    heartbeat_subscriptions,
    parse,
    topic,
)
from tests.devices.fuzz import corpus


def test_it_reads_an_alarm_event():
    message = parse(topic("PND-1", "events"),
                    b'{"seq": 17, "type": "alarm", "ts": "2026-07-01T08:15:00Z"}')
    assert message == Event("PND-1", 17, "alarm", datetime(2026, 7, 1, 8, 15, tzinfo=UTC))


def test_it_reads_battery_and_power_events():
    assert parse(topic("P", "events"), b'{"seq": 1, "type": "battery", "level": 12}').level == 12
    assert parse(topic("P", "events"), b'{"seq": 2, "type": "power", "mains": false}').mains \
        is False


def test_it_reads_heartbeats_and_status():
    assert parse(topic("P", "heartbeat"), b'{"ts": "2026-07-01T08:15:00Z", "battery": 87}') == \
        Heartbeat("P", datetime(2026, 7, 1, 8, 15, tzinfo=UTC), 87)
    assert parse(topic("P", "status"), b"offline") == Status("P", False)
    assert parse(topic("P", "status"), b'"online"') == Status("P", True)


@pytest.mark.parametrize(("name", "payload", "reason"), [
    ("telecare/v1/devices/P/events/x", b"{}", "topic outside the protocol"),
    ("telecare/v2/devices/P/events", b"{}", "topic outside the protocol"),
    ("telecare/v1/devices/P/commands", b"{}", "topic outside the protocol"),
    ("telecare/v1/devices/$bad/events", b"{}", "not a device serial"),
    (topic("P", "events"), b'{"type": "alarm"}', "seq"),
    (topic("P", "events"), b'{"seq": true, "type": "alarm"}', "seq"),
    (topic("P", "events"), b'{"seq": 1, "type": "panic"}', "type"),
    (topic("P", "events"), b'{"seq": 1, "type": "alarm", "ts": "2026-07-01T08:15:00"}', "ts"),
    (topic("P", "events"), b'{"seq": 1, "type": "battery", "level": 101}', "level"),
    (topic("P", "events"), b'{"seq": 1, "type": "power", "mains": 0}', "mains"),
    (topic("P", "events"), b'{"seq": NaN, "type": "alarm"}', "not JSON"),
    (topic("P", "events"), b"[1, 2]", "expected a JSON object"),
    (topic("P", "events"), b"\xff", "not JSON"),
    (topic("P", "events"), b'{"pad": "' + b"x" * 3000 + b'"}', "payload of"),
    (topic("P", "status"), b"maybe", "status"),
])
def test_it_refuses_what_is_not_protocol_v1_saying_why(name, payload, reason):
    with pytest.raises(ProtocolError, match=reason):
        parse(name, payload)


def test_it_subscribes_through_a_shared_group_when_asked():
    assert event_subscriptions()[0] == ("telecare/v1/devices/+/events", 1)
    assert heartbeat_subscriptions("bridges") == [
        ("$share/bridges/telecare/v1/devices/+/heartbeat", 0)]


def _outcome(read, name, payload):
    try:
        return read(name, payload)
    except ProtocolError as exc:
        return f"refused: {exc}"


def _as_parse_reads_it(name, payload):
    message = parse(name, payload)
    if not isinstance(message, Heartbeat):
        raise ProtocolError(f"not a heartbeat on {name[-20:]}")
    return message.serial, message.battery


HEARTBEAT_CASES = [
    (topic("P", "heartbeat"), b'{"ts": "2026-07-01T08:15:00Z", "battery": 87}'),
    (topic("P", "heartbeat"), b'{"ts": "2026-07-01T08:15:00Z", "battery": 87}'),  # cached ts
    (topic("P", "heartbeat"), b'{"battery": 0}'),
    (topic("P", "heartbeat"), b'{"battery": 100.0}'),
    (topic("P", "heartbeat"), b"{}"),
    (topic("P", "heartbeat"), b' {"battery": 5} \n'),
    (topic("P", "heartbeat"), b'{"battery": 5} x'),
    (topic("P", "heartbeat"), b'{"battery": 5}{}'),
    (topic("P", "heartbeat"), b'{"battery": NaN}'),
    (topic("P", "heartbeat"), b'{"battery": Infinity}'),
    (topic("P", "heartbeat"), b'{"battery": 101}'),
    (topic("P", "heartbeat"), b'{"battery": -1}'),
    (topic("P", "heartbeat"), b'{"battery": true}'),
    (topic("P", "heartbeat"), b'{"battery": 50.5}'),
    (topic("P", "heartbeat"), b'{"battery": "50"}'),
    (topic("P", "heartbeat"), b'{"ts": "2026-07-01T08:15:00", "battery": 5}'),
    (topic("P", "heartbeat"), b'{"ts": "2026-13-01T08:15:00Z"}'),
    (topic("P", "heartbeat"), b'{"ts": "2026-07-01T08:15:00+02:00"}'),
    (topic("P", "heartbeat"), b'{"ts": "2026-07-01T08:15:00.123456Z"}'),
    (topic("P", "heartbeat"), b'{"ts": "2026-07-01T08:15:00z"}'),
    (topic("P", "heartbeat"), b'{"ts": ["2026-07-01T08:15:00Z"]}'),
    (topic("P", "heartbeat"), b'{"ts": {"a": 1}}'),
    (topic("P", "heartbeat"), b'{"ts": 5}'),
    (topic("P", "heartbeat"), b'{"ts": "' + b"2" * 41 + b'"}'),
    (topic("P", "heartbeat"), b'{"seq": 1, "type": "alarm", "battery": 9}'),
    (topic("P", "heartbeat"), b"[]"),
    (topic("P", "heartbeat"), b'"beat"'),
    (topic("P", "heartbeat"), b""),
    (topic("P", "heartbeat"), b"\xff\xfe{}"),
    (topic("P", "heartbeat"), b'{"a": ' * 3000 + b"1" + b"}" * 3000),
    (topic("P", "heartbeat"), b'{"pad": "' + b"x" * 3000 + b'"}'),
    (topic("P", "heartbeat"), '{"battery": 5}'.encode("utf-16")),
    (topic("a-b_c.d", "heartbeat"), b'{"battery": 5}'),
    (topic("P" * 64, "heartbeat"), b'{"battery": 5}'),
    (topic("P" * 65, "heartbeat"), b'{"battery": 5}'),
    (topic("P\n", "heartbeat"), b'{"battery": 5}'),
    (topic("$bad", "heartbeat"), b'{"battery": 5}'),
    (topic("", "heartbeat"), b'{"battery": 5}'),
    ("telecare/v1/devices/heartbeat", b'{"battery": 5}'),
    ("telecare/v1/devices/a/b/heartbeat", b'{"battery": 5}'),
    ("telecare/v2/devices/P/heartbeat", b'{"battery": 5}'),
    (topic("P", "events"), b'{"seq": 1, "type": "alarm"}'),
    (topic("P", "events"), b'{"battery": 5}'),
    (topic("P", "status"), b"online"),
    (topic("P", "status"), b"maybe"),
    (topic("P", "heartbeat/x"), b'{"battery": 5}'),
]


@pytest.mark.parametrize(("name", "payload"), HEARTBEAT_CASES)
def test_the_heartbeat_fast_path_accepts_and_refuses_exactly_what_parse_does(name, payload):
    assert _outcome(heartbeat, name, payload) == _outcome(_as_parse_reads_it, name, payload)


def test_the_heartbeat_fast_path_agrees_with_parse_on_the_fuzz_corpus():
    for serial, leaf, payload, _qos in corpus("PENDANT-1"):
        name = topic(serial, leaf)
        assert _outcome(heartbeat, name, payload) == _outcome(_as_parse_reads_it, name, payload)
        assert _outcome(heartbeat, name, payload).startswith("refused: ")


def test_a_timestamp_checked_once_is_remembered_and_a_bad_one_still_refused(monkeypatch):
    monkeypatch.setattr(protocol, "_GOOD_TS", set())
    monkeypatch.setattr(protocol, "MAX_GOOD_TS", 3)
    for second in range(10):  # more than the cache holds: it starts again, still checking
        body = f'{{"ts": "2026-07-01T08:15:0{second}Z", "battery": 1}}'.encode()
        assert heartbeat(topic("P", "heartbeat"), body) == ("P", 1)
        assert heartbeat(topic("P", "heartbeat"), body) == ("P", 1)
        assert len(protocol._GOOD_TS) <= 3
        with pytest.raises(ProtocolError, match="ts"):
            heartbeat(topic("P", "heartbeat"), f'{{"ts": "2026-07-01T08:15:0{second}"}}'.encode())
