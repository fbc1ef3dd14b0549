"""The heartbeat process: last-seen written for devices known late, and after a broker restart."""

from __future__ import annotations

import threading

import pytest

from devices.bridge import Bridge
from devices.connection import BrokerAddress
from devices.heartbeats import _drain
from tests.devices.conftest import device_row, wait_for


@pytest.fixture
def bridge(bridge_runtime, broker):
    started = Bridge(bridge_runtime, BrokerAddress.from_url(broker.url)).start()
    assert started.wait_connected(10)
    yield started
    started.stop()


def test_it_finds_a_device_provisioned_after_it_started_and_refuses_an_unknown_one(
        bridge, make_device, connect_device, committed_sessions):
    late = make_device(period_s=60)  # not in the directory the process loaded
    pendant = connect_device(late.serial)
    pendant.publish("heartbeat", {"battery": 71}, qos=0)
    pendant.publish("heartbeat", {"battery": 70}, qos=0, serial=f"{late.serial}-ghost")
    row = wait_for(lambda: (r := device_row(committed_sessions, late.id)).last_seen_at and r)
    assert row.battery == 71
    wait_for(lambda: bridge.refused == 1)


def test_it_reconnects_after_the_broker_restarts_and_goes_on_writing(
        bridge, broker, make_device, connect_device, committed_sessions):
    device = make_device(period_s=60)
    broker.stop()
    wait_for(lambda: not bridge._shared.connected.is_set())
    broker.start()
    wait_for(bridge._shared.connected.is_set, timeout=20)
    connect_device(device.serial).publish("heartbeat", {"battery": 64}, qos=0)
    row = wait_for(lambda: (r := device_row(committed_sessions, device.id)).battery == 64 and r)
    assert row.last_seen_at is not None


def test_draining_while_another_thread_writes_loses_no_entry():
    entries: dict[int, int] = {}
    taken: dict[int, int] = {}
    done = threading.Event()

    def write():
        for n in range(200_000):
            entries[n % 5000] = n  # as the network thread: the latest per device
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        taken.update(_drain(entries))
    writer.join()
    taken.update(_drain(entries))
    assert entries == {}
    assert taken == {key: 195_000 + key for key in range(5000)}
