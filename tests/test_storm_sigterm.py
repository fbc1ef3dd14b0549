"""SIGTERM to the bridge in the middle of an alarm storm loses nothing and doubles nothing.

2,000 devices each press once (QoS 1, one seq each) over two seconds; halfway, the bridge
process gets SIGTERM, as from systemd on a restart. It commits and acknowledges what it
holds and leaves the rest to its persistent session; presses go on arriving while it is
down. A new bridge on the same session takes up everything the broker kept. Afterwards every
press is in the database exactly once: one device_event, one alarm per device.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from devices.broker import Mosquitto
from telecare.db import make_engine, make_session_factory
from telecare.models import Alarm, AlarmKind, Device, DeviceEvent
from tests.serving import Serve, Storm, make_devices, serve_env, wait_until

DEVICES = 2000


def committed(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(DeviceEvent)
                              .where(DeviceEvent.type == "alarm"))


@pytest.mark.slow
def test_sigterm_during_an_alarm_storm_loses_no_alarm_and_doubles_none(server_database,
                                                                        tmp_path):
    engine = make_engine(server_database)
    sessions = make_session_factory(engine)
    serials = make_devices(sessions, DEVICES, "STORM")
    broker = Mosquitto(tmp_path / "mosquitto").start()
    # One client id for both bridges: the second resumes the first one's session.
    env = serve_env(tmp_path, server_database, broker.url,
                    TELECARE_MQTT_CLIENT_ID=f"bridge-{uuid.uuid4().hex[:8]}")
    first = Serve("bridge", tmp_path, env, name="bridge-1")
    second = None
    storm = None
    try:
        first.wait_for("bridge: connected (session new)")
        storm = Storm(broker.url, serials)
        storm.run(2.0, midway=first.sigterm)
        assert first.terminate() == 0, first.output()[-4000:]
        before_restart = committed(sessions)
        storm.wait_acknowledged()  # every press is the broker's now

        second = Serve("bridge", tmp_path, env, name="bridge-2")
        second.wait_for("bridge: connected (session resumed)")
        wait_until(lambda: committed(sessions) >= DEVICES, 60,
                   what=f"{DEVICES} presses committed")
        time.sleep(1.0)  # anything redelivered once more would have landed by now
        assert second.terminate() == 0, second.output()[-4000:]
    finally:
        for process in (first, second):
            if process is not None:
                process.kill()
        if storm is not None:
            storm.close()
        broker.stop()

    assert 0 < before_restart < DEVICES, "SIGTERM came in the middle of the storm"
    for process in (first, second):
        output = process.output()
        assert "Traceback" not in output, output[-4000:]
        assert "bridge: stopped" in output
    with sessions() as session:
        events = session.execute(select(Device.serial, DeviceEvent.seq, DeviceEvent.alarm_id)
                                 .join(Device, Device.id == DeviceEvent.device_id)
                                 .where(DeviceEvent.type == "alarm")).all()
        alarms = session.execute(select(Alarm.id, Device.serial)
                                 .join(Device, Device.id == Alarm.device_id)
                                 .where(Alarm.kind == AlarmKind.BUTTON)).all()
    assert sorted(serial for serial, _, _ in events) == serials, "every press, once"
    assert Counter(serial for _, serial in alarms) == Counter(serials), "one alarm per device"
    assert {alarm_id for _, _, alarm_id in events} == {alarm_id for alarm_id, _ in alarms}
    engine.dispose()
