"""A pendant's alarm over MQTT reaches an operator's open queue page, and their answer the pendant.

Everything is real: Mosquitto, the device bridge, the web server and Chromium all work on one
database; only the pendant is simulated.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from devices.bridge import Bridge
from devices.broker import Mosquitto
from devices.connection import BrokerAddress
from telecare.actor import Actor
from telecare.db import session_scope
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import Alarm, AlarmState, Device, DeviceKind, DeviceState
from telecare.runtime import Runtime
from telecare.settings import DatabaseSettings, DevicesSettings, MqttSettings
from tests.browser.conftest import PASSWORD
from tests.devices.conftest import FakeDevice, wait_for
from tests.factories import enrollee_data


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as running:
        yield running


@pytest.fixture
def pendant_serial(live_runtime):
    """An enrolled person wearing an active pendant, committed before the bridge starts."""
    serial = f"PND-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    with session_scope(live_runtime.sessions) as session:
        data = read_enrollee(enrollee_data(last_name="Colombo", first_name="Anna"), now.date(),
                             live_runtime.settings.enrolment)
        person = service.enrol(session, data, Actor("setup"), now)
        session.add(Device(serial=serial, enrollee_id=person.id, kind=DeviceKind.PENDANT,
                           state=DeviceState.ACTIVE, created_at=now))
    return serial


@pytest.fixture
def bridge(live_runtime, broker, pendant_serial):
    settings = live_runtime.settings.replace(
        database=DatabaseSettings(url=live_runtime.settings.database_url),
        mqtt=MqttSettings(url=broker.url, client_id=f"bridge-{uuid.uuid4().hex[:8]}",
                          session_expiry_s=300),
        devices=DevicesSettings(grace_s=30, heartbeat_flush_ms=100, watchdog_interval_ms=100))
    runtime = Runtime(settings)
    running = Bridge(runtime, BrokerAddress.from_url(broker.url)).start()
    assert running.wait_connected(10)
    yield running
    running.stop()
    runtime.close()


@pytest.fixture
def pendant(broker, pendant_serial):
    device = FakeDevice(broker, pendant_serial)
    yield device
    device.close()


def test_an_alarm_over_mqtt_appears_live_and_taking_charge_reaches_the_device(
        page, live_server, live_runtime, bridge, pendant):
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.goto(live_server + "/alarms")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/alarms")
    assert page.locator(".alarm-row").count() == 0
    # Listening: the status line says so once the event stream is open.
    live = page.locator("#live-status").get_attribute("data-live")
    page.wait_for_function("t => document.getElementById('live-status').textContent === t",
                           arg=live)
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    pendant.event(1, "alarm")
    row = page.locator(".alarm-row", has_text="Colombo")
    row.wait_for(timeout=15_000)
    assert page.evaluate("window.sameDocument === true")
    assert "Pulsante premuto" in row.inner_text()
    with session_scope(live_runtime.sessions) as session:
        alarm_id = session.scalars(select(Alarm.id)).one()

    # Choose it with the keyboard, and take charge with its shortcut.
    page.keyboard.press("j")
    page.locator(f"#alarm-detail[data-alarm-id='{alarm_id}']").wait_for()
    assert "Colombo Anna" in page.locator("#alarm-detail h2").inner_text()
    page.keyboard.press("a")
    page.wait_for_url(f"**/alarms/{alarm_id}")
    assert "Hai preso in carico" in page.locator(".flashes").inner_text()

    wait_for(lambda: any(c.get("cmd") == "help_coming" for c in pendant.commands), timeout=10)
    assert pendant.commands == [{"cmd": "alarm_received", "alarm": alarm_id},
                                {"cmd": "help_coming", "alarm": alarm_id}]
    with session_scope(live_runtime.sessions) as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm.state == AlarmState.ACKNOWLEDGED and alarm.acknowledged_via == "console"
    assert script_errors == []
