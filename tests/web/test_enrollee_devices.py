"""Giving a person their alarm device on the card, and taking it back."""

from __future__ import annotations

from sqlalchemy import select

from telecare.models import AuditEntry, Device, DeviceState, Role
from tests.conftest import NOW
from tests.web.test_enrollees import enrol


def stock(session, serial: str, **extra) -> Device:
    device = Device(serial=serial, state=extra.pop("state", DeviceState.IN_STOCK),
                    created_at=NOW, **extra)
    session.add(device)
    session.commit()
    return device


def test_a_social_worker_gives_a_device_and_its_alarms_reach_the_card(client, login, session,
                                                                       settings):
    maria = enrol(session, settings)
    device = stock(session, "PND-100")
    login(Role.SOCIAL_WORKER)
    assert 'name="serial"' in client.get(f"/enrollees/{maria.id}").get_data(as_text=True)

    response = client.post(f"/enrollees/{maria.id}/devices", data={"serial": " PND-100 "})

    assert response.status_code == 302
    session.expire_all()
    device = session.get(Device, device.id)
    assert (device.enrollee_id, device.state) == (maria.id, DeviceState.ACTIVE)
    assert session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "device")).all() == ["device_assigned"]
    assert "PND-100" in client.get(f"/enrollees/{maria.id}").get_data(as_text=True)


def test_a_device_with_someone_else_or_unknown_is_refused_naming_why(client, login, session,
                                                                      settings):
    maria, carla = enrol(session, settings), enrol(session, settings)
    stock(session, "PND-200", enrollee_id=carla.id, state=DeviceState.ACTIVE)
    login(Role.SOCIAL_WORKER)

    client.post(f"/enrollees/{maria.id}/devices", data={"serial": "PND-200"})
    page = client.get(f"/enrollees/{maria.id}").get_data(as_text=True)
    assert f"è con la scheda {carla.id}" in page
    client.post(f"/enrollees/{maria.id}/devices", data={"serial": "NOPE-1"})
    assert "non è un dispositivo registrato" in client.get(
        f"/enrollees/{maria.id}").get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(Device.enrollee_id).where(
        Device.serial == "PND-200")).one() == carla.id


def test_taking_back_returns_it_to_stock_or_retires_it(client, login, session, settings):
    maria = enrol(session, settings)
    kept = stock(session, "PND-300", enrollee_id=maria.id, state=DeviceState.ACTIVE)
    broken = stock(session, "PND-301", enrollee_id=maria.id, state=DeviceState.ACTIVE)
    login(Role.SOCIAL_WORKER)

    client.post(f"/enrollees/{maria.id}/devices/{kept.id}/take-back")
    client.post(f"/enrollees/{maria.id}/devices/{broken.id}/take-back", data={"retire": "yes"})

    session.expire_all()
    assert [(d.serial, d.enrollee_id, d.state) for d in session.scalars(
        select(Device).order_by(Device.serial))] == [
        ("PND-300", None, DeviceState.IN_STOCK), ("PND-301", None, DeviceState.RETIRED)]


def test_operators_see_devices_but_cannot_give_them(client, login, session, settings):
    maria = enrol(session, settings)
    stock(session, "PND-400")
    login(Role.OPERATOR)
    assert 'name="serial"' not in client.get(f"/enrollees/{maria.id}").get_data(as_text=True)
    assert client.post(f"/enrollees/{maria.id}/devices",
                       data={"serial": "PND-400"}).status_code == 403
