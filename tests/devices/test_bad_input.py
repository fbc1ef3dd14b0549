"""Malformed and hostile payloads: counted, logged, never a crash, never an alarm."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from devices import protocol
from devices.bridge import Bridge
from devices.connection import BrokerAddress
from telecare.models import Alarm, DeviceEvent
from tests.devices.conftest import wait_for
from tests.devices.fuzz import corpus


def test_every_message_of_the_fuzz_corpus_is_refused_by_the_parser():
    for serial, leaf, payload, qos in corpus("PENDANT-1"):
        with pytest.raises(protocol.ProtocolError):
            message = protocol.parse(protocol.topic(serial, leaf), payload)
            if qos == 0 and not isinstance(message, protocol.Heartbeat):
                raise protocol.ProtocolError("not a heartbeat")


def test_it_survives_10000_hostile_payloads_and_then_processes_a_valid_alarm(
        bridge_runtime, broker, make_device, connect_device, committed_sessions, caplog):
    device = make_device()
    with committed_sessions() as session:
        alarms_before = session.scalar(select(func.count()).select_from(Alarm))
    bridge = Bridge(bridge_runtime, BrokerAddress.from_url(broker.url)).start()
    try:
        assert bridge.wait_connected(10)
        pendant = connect_device(device.serial)
        messages = corpus(device.serial)
        for serial, leaf, payload, qos in messages:
            pendant.client.publish(protocol.topic(serial, leaf), payload, qos=qos)
        pendant.event(1, "alarm")
        [alarm] = wait_for(lambda: _alarms(committed_sessions, device.id), timeout=60)
        wait_for(lambda: bridge.refused == len(messages), timeout=10)
    finally:
        bridge.stop()
    assert json.loads(json.dumps(pendant.commands)) == [
        {"cmd": "alarm_received", "alarm": alarm.id}]
    with committed_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alarm)) == alarms_before + 1
        assert session.scalars(select(DeviceEvent.seq)
                               .where(DeviceEvent.device_id == device.id)).all() == [1]
    assert set(bridge.bad.counts) <= {"bad_message", "unknown_device", "wrong_qos"}
    # Rate-limited: one line per device (and per garbled serial) a minute, not 10,000.
    refusals = [r for r in caplog.records if r.name == "devices.badinput"]
    assert 0 < len(refusals) <= 25


def _alarms(sessions, device_id):
    with sessions() as session:
        return session.scalars(select(Alarm).where(Alarm.device_id == device_id)).all()
