"""Protocol v1 parsing: what devices may send, and what is refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devices.protocol import (
    Event,
    Heartbeat,
    ProtocolError,
    Status,
    event_subscriptions,
    heartbeat_subscriptions,
    parse,
    topic,
)


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
