"""The device pages: the list with each device's state, and a device's history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from telecare.models import Device, DeviceEvent, DeviceState, Role
from tests.conftest import NOW


@pytest.fixture
def fleet(session):
    online = Device(serial="PND-ONLINE", state=DeviceState.ACTIVE, created_at=NOW,
                    last_seen_at=NOW, battery=15, last_test_at=NOW - timedelta(days=3))
    offline = Device(serial="PND-OFFLINE", state=DeviceState.ACTIVE, created_at=NOW,
                     last_seen_at=NOW - timedelta(hours=2),
                     offline_since=NOW - timedelta(hours=1), battery=80)
    stock = Device(serial="PND-STOCK", created_at=NOW)
    session.add_all([online, offline, stock])
    session.flush()
    session.add_all([
        DeviceEvent(device_id=online.id, seq=4, type="alarm", received_at=NOW, detail={}),
        DeviceEvent(device_id=online.id, seq=5, type="battery", received_at=NOW,
                    detail={"level": 15}),
    ])
    session.commit()
    return {"online": online, "offline": offline, "stock": stock}


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SOCIAL_WORKER])
def test_it_lists_devices_with_their_state_offline_first(login, client, fleet, role):
    login(role)
    page = client.get("/devices").get_data(as_text=True)
    assert page.index("PND-OFFLINE") < page.index("PND-ONLINE")
    assert "Non in linea dal" in page  # Italian, the default language
    assert "15%" in page and "PND-STOCK" in page


def test_it_filters_offline_devices(login, client, fleet):
    login(Role.OPERATOR)
    page = client.get("/devices?show=offline").get_data(as_text=True)
    assert "PND-OFFLINE" in page and "PND-ONLINE" not in page


def test_it_shows_a_devices_history(login, client, fleet):
    login(Role.SUPERVISOR)
    response = client.get(f"/devices/{fleet['online'].id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "seq 4" in page and "level: 15" in page


def test_it_answers_404_for_an_unknown_device(login, client, fleet):
    login(Role.OPERATOR)
    assert client.get("/devices/999999").status_code == 404


def test_it_asks_strangers_to_sign_in(client, fleet):
    assert client.get("/devices").status_code == 302
