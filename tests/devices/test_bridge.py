"""The bridge against a real Mosquitto: alarms committed, answered, never lost, never doubled."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from devices.bridge import Bridge
from devices.connection import BrokerAddress
from telecare.models import Alarm, AlarmKind, DeviceEvent
from tests.devices.conftest import device_row, wait_for


@pytest.fixture
def start_bridge(bridge_runtime, broker):
    started: list[Bridge] = []

    def start() -> Bridge:
        bridge = Bridge(bridge_runtime, BrokerAddress.from_url(broker.url)).start()
        assert bridge.wait_connected(10)
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        bridge.stop()


def alarms_of(sessions, device_id: int, kind: AlarmKind | None = None) -> list[Alarm]:
    with sessions() as session:
        query = select(Alarm).where(Alarm.device_id == device_id)
        if kind:
            query = query.where(Alarm.kind == kind)
        return session.scalars(query).all()


def test_it_commits_an_alarm_and_answers_alarm_received(start_bridge, make_device,
                                                         connect_device, committed_sessions):
    device = make_device()
    start_bridge()
    pendant = connect_device(device.serial)
    pendant.event(1, "alarm")
    [alarm] = wait_for(lambda: alarms_of(committed_sessions, device.id))
    assert alarm.kind == AlarmKind.BUTTON and alarm.severity.value == "critical"
    wait_for(lambda: pendant.commands)
    assert pendant.commands == [{"cmd": "alarm_received", "alarm": alarm.id}]


def test_it_answers_a_test_with_test_ok_and_marks_the_device_verified(
        start_bridge, make_device, connect_device, committed_sessions):
    device = make_device()
    start_bridge()
    pendant = connect_device(device.serial)
    pendant.event(1, "test")
    wait_for(lambda: pendant.commands)
    assert pendant.commands == [{"cmd": "test_ok"}]
    assert device_row(committed_sessions, device.id).last_test_at is not None
    assert alarms_of(committed_sessions, device.id) == []


def test_it_raises_one_alarm_for_a_redelivered_event(start_bridge, make_device, connect_device,
                                                      committed_sessions):
    device = make_device()
    bridge = start_bridge()
    pendant = connect_device(device.serial)
    pendant.event(7, "fall")
    pendant.event(7, "fall")  # the same (device, seq): a redelivery
    wait_for(lambda: len(pendant.commands) == 2)
    assert len(alarms_of(committed_sessions, device.id)) == 1
    assert bridge.stats.duplicates == 1
    assert pendant.commands[0] == pendant.commands[1]


def test_it_processes_an_event_published_while_the_bridge_was_down(
        start_bridge, make_device, connect_device, committed_sessions):
    device = make_device()
    start_bridge().stop()  # the broker now holds the bridge's persistent session
    pendant = connect_device(device.serial)
    pendant.event(1, "alarm")
    assert alarms_of(committed_sessions, device.id) == []
    start_bridge()
    wait_for(lambda: alarms_of(committed_sessions, device.id))
    wait_for(lambda: pendant.commands)
    assert pendant.commands[0]["cmd"] == "alarm_received"


def test_it_raises_a_low_battery_alarm_and_clears_it_above_the_recovered_level(
        start_bridge, make_device, connect_device, committed_sessions):
    device = make_device()
    start_bridge()
    pendant = connect_device(device.serial)
    pendant.event(1, "battery", level=15)
    [alarm] = wait_for(lambda: alarms_of(committed_sessions, device.id, AlarmKind.LOW_BATTERY))
    assert alarm.severity.value == "low" and alarm.cleared_at is None
    pendant.event(2, "battery", level=25)  # between the thresholds: no change
    pendant.event(3, "battery", level=80)
    wait_for(lambda: alarms_of(committed_sessions, device.id)[0].cleared_at is not None)
    assert device_row(committed_sessions, device.id).battery == 80


def test_it_records_a_power_loss(start_bridge, make_device, connect_device, committed_sessions):
    device = make_device()
    start_bridge()
    connect_device(device.serial).event(1, "power", mains=False)
    wait_for(lambda: device_row(committed_sessions, device.id).mains_power is False)
    with committed_sessions() as session:
        kinds = session.scalars(select(DeviceEvent.type)
                                .where(DeviceEvent.device_id == device.id)).all()
    assert kinds == ["power"]


def test_it_writes_heartbeats_in_batches_and_sets_the_watchdogs_due_time(
        start_bridge, make_device, connect_device, committed_sessions):
    device = make_device(period_s=60)
    bridge = start_bridge()
    pendant = connect_device(device.serial)
    for battery in (90, 89, 88):
        pendant.publish("heartbeat", {"ts": "2026-11-28T22:00:00Z", "battery": battery}, qos=0)
    row = wait_for(lambda: (r := device_row(committed_sessions, device.id)).battery == 88 and r)
    assert row.last_seen_at is not None
    assert (row.offline_after - row.last_seen_at).total_seconds() == 60 + 2
    assert bridge.heartbeats_received == 3


def test_it_counts_alarms_across_the_whole_table_only_once(committed_sessions):
    # Guard for the tests above: they look alarms up by device, which must be unique per test.
    with committed_sessions() as session:
        duplicated = session.execute(
            select(Alarm.device_id, Alarm.kind, func.count())
            .where(Alarm.state != "resolved").group_by(Alarm.device_id, Alarm.kind)
            .having(func.count() > 1)).all()
    assert duplicated == []


def test_it_takes_a_device_offline_on_its_last_will_and_clears_the_alarm_on_return(
        start_bridge, make_device, connect_device, committed_sessions):
    device = make_device(period_s=60)
    start_bridge()
    pendant = connect_device(device.serial)
    pendant.publish("heartbeat", {"battery": 90}, qos=0)
    wait_for(lambda: device_row(committed_sessions, device.id).last_seen_at)
    pendant.publish("status", "offline")  # what the broker sends as its Last Will
    [alarm] = wait_for(lambda: alarms_of(committed_sessions, device.id, AlarmKind.DEVICE_OFFLINE))
    assert alarm.cleared_at is None
    assert device_row(committed_sessions, device.id).offline_since is not None
    pendant.publish("heartbeat", {"battery": 90}, qos=0)
    wait_for(lambda: alarms_of(committed_sessions, device.id)[0].cleared_at is not None)
    assert device_row(committed_sessions, device.id).offline_since is None


def test_it_takes_a_silent_device_offline_after_its_period_and_grace(
        start_bridge, make_device, connect_device, committed_sessions):
    device = make_device(period_s=1)  # grace 2 s in these tests
    start_bridge()
    connect_device(device.serial).publish("heartbeat", {}, qos=0)
    seen = wait_for(lambda: device_row(committed_sessions, device.id).last_seen_at)
    row = wait_for(lambda: (r := device_row(committed_sessions, device.id)).offline_since and r,
                   timeout=8)
    assert 3 <= (row.offline_since - seen).total_seconds() < 4
    assert len(alarms_of(committed_sessions, device.id, AlarmKind.DEVICE_OFFLINE)) == 1


def test_it_skips_a_poison_event_and_lets_the_rest_of_its_batch_through(
        start_bridge, make_device, connect_device, committed_sessions, monkeypatch):
    from devices import bridge as bridge_module

    real = bridge_module.apply_event

    def apply_event(session, device, event, now, settings):
        if event.seq == 666:
            raise RuntimeError("a bug this event trips on")
        return real(session, device, event, now, settings)

    monkeypatch.setattr(bridge_module, "apply_event", apply_event)
    device, other = make_device(), make_device()
    bridge = start_bridge()
    pendant, second = connect_device(device.serial), connect_device(other.serial)
    pendant.event(666, "alarm")
    second.event(1, "alarm")
    wait_for(lambda: alarms_of(committed_sessions, other.id))
    wait_for(lambda: bridge.bad.counts["failed"] == 1)
    assert alarms_of(committed_sessions, device.id) == []


def test_it_tells_the_device_help_is_coming_once_someone_takes_charge(
        start_bridge, make_device, connect_device, committed_sessions):
    from datetime import UTC, datetime

    from telecare import alarms
    from telecare.actor import Actor
    from telecare.models import DeviceCommand

    device = make_device()
    bridge = start_bridge()
    pendant = connect_device(device.serial)
    pendant.event(1, "alarm")
    [alarm] = wait_for(lambda: alarms_of(committed_sessions, device.id))
    wait_for(lambda: pendant.commands)

    # The console (another process, in production) takes charge: only the database between.
    with committed_sessions() as session:
        alarms.acknowledge(session, session.get(Alarm, alarm.id), Actor("operatore", None),
                           "console", datetime.now(UTC))
        session.commit()

    wait_for(lambda: len(pendant.commands) == 2)
    assert pendant.commands[1] == {"cmd": "help_coming", "alarm": alarm.id}
    with committed_sessions() as session:
        [command] = session.scalars(select(DeviceCommand).where(
            DeviceCommand.device_id == device.id)).all()
        assert command.sent_at is not None
    assert bridge.outbox.publish_pending() == 0  # nothing left, nothing sent twice
    assert len(pendant.commands) == 2
