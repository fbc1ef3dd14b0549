"""The simulated fleet drives the real bridge: heartbeats land, presses become alarms."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import func, select

from devices.bridge import Bridge
from devices.connection import BrokerAddress
from devices.simulator import Behaviour, Fleet, ensure_devices
from telecare.models import Alarm, Device
from tests.devices.conftest import wait_for


def test_it_publishes_a_fleet_the_bridge_turns_into_last_seen_and_alarms(
        bridge_runtime, broker, committed_sessions):
    prefix = f"SIM{uuid.uuid4().hex[:6]}-"
    serials = ensure_devices(committed_sessions, 200, period_s=1, prefix=prefix)
    assert ensure_devices(committed_sessions, 200, period_s=1, prefix=prefix) == serials
    bridge = Bridge(bridge_runtime, BrokerAddress.from_url(broker.url)).start()
    fleet = Fleet(BrokerAddress.from_url(broker.url), serials, connections=3,
                  behaviour=Behaviour(period_s=0.5, jitter_s=0.05, press=0.01, drop_off=0))
    try:
        assert bridge.wait_connected(10)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            fleet.step(time.monotonic())
            time.sleep(0.01)
        presses = fleet.stats.events.get("alarm", 0)
        assert fleet.stats.heartbeats >= 600 and presses > 0

        def seen() -> int:
            with committed_sessions() as session:
                return session.scalar(select(func.count()).select_from(Device).where(
                    Device.serial.startswith(prefix), Device.last_seen_at.is_not(None)))

        wait_for(lambda: seen() == 200)

        def alarmed() -> int:
            with committed_sessions() as session:
                return session.scalar(select(func.count(func.distinct(Alarm.device_id)))
                                      .join(Device, Device.id == Alarm.device_id)
                                      .where(Device.serial.startswith(prefix)))

        # One alarm per pressing device: its repeated presses join the unresolved one.
        wait_for(lambda: alarmed() == len(fleet.stats.pressed))
    finally:
        fleet.close()
        bridge.stop()
