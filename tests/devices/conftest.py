"""Device fixtures: a private Mosquitto on a free port, a committed database, simulated devices.

The bridge commits for real (and a test may run it in another process), so these tests use
their own database rather than the rolled-back transaction of the other tests.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from devices.broker import Mosquitto
from devices.connection import BrokerAddress, make_client
from devices.protocol import topic
from telecare.db import make_engine, make_session_factory
from telecare.migrate import upgrade
from telecare.models import Device, DeviceKind, DeviceState
from telecare.runtime import Runtime
from telecare.settings import DatabaseSettings, DevicesSettings, MqttSettings, Settings
from tests.conftest import _private_database, _test_database_url


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, every: float = 0.02):
    """Poll until predicate() is truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true within {timeout}s: {predicate}")


@pytest.fixture(scope="session")
def committed_database_url(tmp_path_factory):
    url = _test_database_url(str(tmp_path_factory.mktemp("devices-db") / "devices.db"))
    if url.startswith("sqlite"):
        upgrade(url)
        yield url
        return
    with _private_database(url) as private_url:
        upgrade(private_url)
        yield private_url


@pytest.fixture(scope="session")
def committed_sessions(committed_database_url):
    engine = make_engine(committed_database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as running:
        yield running


@pytest.fixture
def bridge_settings(tmp_path, committed_database_url, broker) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=committed_database_url),
        # A client id per test: each test's bridge has its own persistent session.
        mqtt=MqttSettings(url=broker.url, client_id=f"bridge-{uuid.uuid4().hex[:8]}",
                          session_expiry_s=300),
        devices=DevicesSettings(grace_s=2, heartbeat_flush_ms=100, watchdog_interval_ms=100),
    )


@pytest.fixture
def bridge_runtime(bridge_settings, committed_sessions) -> Runtime:
    runtime = Runtime(bridge_settings)
    runtime.sessions = committed_sessions
    return runtime


_serials = itertools.count(1)


@pytest.fixture
def make_device(committed_sessions):
    """A device committed to the database, active, with a serial unique to this run."""
    def make(period_s: int = 60, state: DeviceState = DeviceState.ACTIVE) -> Device:
        serial = f"T{os.getpid()}-{next(_serials)}-{uuid.uuid4().hex[:6]}"
        with committed_sessions() as session:
            device = Device(serial=serial, kind=DeviceKind.PENDANT, heartbeat_period_s=period_s,
                            state=state, created_at=datetime.now(UTC))
            session.add(device)
            session.commit()
            return device
    return make


def device_row(sessions, device_id: int) -> Device:
    with sessions() as session:
        return session.scalars(select(Device).where(Device.id == device_id)).one()


class FakeDevice:
    """A device on the broker: publishes protocol v1 messages, collects its commands."""

    def __init__(self, broker: Mosquitto, serial: str, username: str | None = None,
                 password: str | None = None):
        self.serial = serial
        self.commands: list[dict] = []
        self._lock = threading.Lock()
        self.client = make_client(BrokerAddress.from_url(broker.url), f"dev-{serial}",
                                  username=username, password=password)
        self.client.max_inflight_messages_set(1000)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(topic(serial, "commands"), qos=1)
        assert subscribed.wait(5)

    def _on_message(self, _client, _userdata, message) -> None:
        with self._lock:
            self.commands.append(json.loads(message.payload))

    def publish(self, leaf: str, payload: bytes | str | dict, qos: int = 1,
                serial: str | None = None) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        info = self.client.publish(topic(serial or self.serial, leaf), payload, qos=qos)
        if qos:
            info.wait_for_publish(5)

    def event(self, seq: int, kind: str, **fields) -> None:
        self.publish("events", {"seq": seq, "type": kind, "ts": "2026-11-28T22:00:00Z",
                                **fields})

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connect_device(broker):
    made: list[FakeDevice] = []

    def connect(serial: str, **credentials) -> FakeDevice:
        device = FakeDevice(broker, serial, **credentials)
        made.append(device)
        return device

    yield connect
    for device in made:
        device.close()


def mqtt_reason_ok(reason_code) -> bool:
    return not getattr(reason_code, "is_failure", False)


__all__ = ["wait_for", "device_row", "FakeDevice", "mqtt", "mqtt_reason_ok"]
