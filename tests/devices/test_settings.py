"""The devices' settings: read from the environment, refused when they cannot work."""

from __future__ import annotations

import pytest

from telecare.settings import SettingsError, load_settings


def test_it_reads_device_settings_from_the_environment():
    settings = load_settings({"TELECARE_DEVICES_GRACE_S": "45",
                              "TELECARE_MQTT_SHARED_GROUP": "bridges"})
    assert settings.devices.grace_s == 45
    assert settings.mqtt.shared_group == "bridges"
    assert settings.devices.low_battery_percent == 20


@pytest.mark.parametrize(("environ", "message"), [
    ({"TELECARE_DEVICES_GRACE_S": "-1"}, "TELECARE_DEVICES_GRACE_S: expected 0 or more"),
    ({"TELECARE_DEVICES_LOW_BATTERY_PERCENT": "40"},
     "TELECARE_DEVICES_BATTERY_RECOVERED_PERCENT: expected a level above"),
    ({"TELECARE_DEVICES_HEARTBEAT_FLUSH_MS": "0"}, "TELECARE_DEVICES_HEARTBEAT_FLUSH_MS"),
])
def test_it_refuses_device_settings_that_cannot_work(environ, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)
