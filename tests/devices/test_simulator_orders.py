"""The simulated fleet takes orders from other threads: a press now, a device lost for good.

The demo's people press their pendant when the weekly call asks (from the stand-in's call
thread), and its script loses one pendant; the fleet's own loop publishes both, so each
device's seq still grows by one per event.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from devices.bridge import Bridge
from devices.connection import BrokerAddress
from devices.simulator import Behaviour, Fleet, ensure_devices
from telecare.models import Alarm, AlarmKind, Device
from tests.devices.conftest import wait_for

QUIET = Behaviour(period_s=0.5, jitter_s=0.05, press=0, fall=0, test=0, battery_drain=0,
                  drop_off=0)


@pytest.fixture
def fleet_and_bridge(bridge_runtime, broker, committed_sessions):
    prefix = f"ORD{uuid.uuid4().hex[:6]}-"
    serials = ensure_devices(committed_sessions, 3, period_s=1, prefix=prefix)
    bridge = Bridge(bridge_runtime, BrokerAddress.from_url(broker.url)).start()
    fleet = Fleet(BrokerAddress.from_url(broker.url), serials, connections=1, behaviour=QUIET)
    thread = threading.Thread(target=fleet.run, daemon=True)
    try:
        assert bridge.wait_connected(10)
        thread.start()
        yield fleet, serials
    finally:
        fleet.stop()
        thread.join(timeout=5)
        fleet.close()
        bridge.stop()


def device(sessions, serial: str) -> Device:
    with sessions() as session:
        return session.scalars(select(Device).where(Device.serial == serial)).one()


def test_a_press_ordered_from_another_thread_arrives_as_a_test_or_an_alarm(
        fleet_and_bridge, committed_sessions):
    fleet, (tester, presser, _) = fleet_and_bridge
    presses = [threading.Thread(target=fleet.press, args=(tester, "test")) for _ in range(3)]
    for thread in presses:
        thread.start()
    for thread in presses:
        thread.join()
    assert fleet.press(presser, "alarm", after_s=0.2)
    assert not fleet.press("NO-SUCH-PENDANT", "test")
    with pytest.raises(ValueError, match="'dance'"):
        fleet.press(tester, "dance")

    wait_for(lambda: device(committed_sessions, tester).last_test_at is not None)
    presser_id = device(committed_sessions, presser).id

    def alarm():
        with committed_sessions() as session:
            return session.scalars(select(Alarm).where(Alarm.device_id == presser_id)).first()

    assert wait_for(alarm).kind == AlarmKind.BUTTON
    # Three presses from three threads: three events, three sequence numbers in a row.
    wait_for(lambda: fleet.stats.events.get("test") == 3)
    assert fleet.devices[0].seq == fleet.devices[2].seq + 3


def test_a_lost_device_says_offline_goes_offline_and_stays_silent(
        fleet_and_bridge, committed_sessions):
    fleet, (lost, other, _) = fleet_and_bridge
    wait_for(lambda: fleet.devices[0].last_beat > 0)  # heard from, then lost
    assert fleet.lose(lost)
    wait_for(lambda: device(committed_sessions, lost).offline_since is not None)
    assert lost in fleet.stats.lost
    last_beat = fleet.devices[0].last_beat
    # Orders are carried out in turn: once the other device's test is out, the lost one's
    # press was dropped, and the others have beaten meanwhile while it kept silent.
    fleet.press(lost, "alarm")
    fleet.press(other, "test")
    wait_for(lambda: fleet.stats.events.get("test") == 1)
    assert "alarm" not in fleet.stats.events
    wait_for(lambda: fleet.devices[1].last_beat > last_beat + 1.0)
    assert fleet.devices[0].last_beat == last_beat
    assert device(committed_sessions, lost).offline_since is not None
