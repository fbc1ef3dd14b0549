"""The watchdog and the last-seen batches, on the test's rolled-back transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from devices import watchdog
from devices.watchdog import Seen
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import (
    Alarm,
    AlarmKind,
    AlarmState,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceState,
)
from tests.conftest import NOW
from tests.factories import enrollee_data

GRACE = 30


@pytest.fixture
def enrollee(session, settings):
    data = read_enrollee(enrollee_data(), NOW.date(), settings.enrolment)
    return service.enrol(session, data, Actor("giulia"), NOW)


@pytest.fixture
def device(session, enrollee):
    made = Device(serial="PND-0001", kind=DeviceKind.PENDANT, heartbeat_period_s=60,
                  state=DeviceState.ACTIVE, enrollee_id=enrollee.id, created_at=NOW)
    session.add(made)
    session.flush()
    return made


def beat(session, device, at):
    watchdog.flush_seen(session, [Seen(device.id, at, device.heartbeat_period_s, 77)], GRACE, at)
    session.flush()
    session.refresh(device)


def offline_alarms(session, device):
    return session.scalars(select(Alarm).where(Alarm.device_id == device.id,
                                               Alarm.kind == AlarmKind.DEVICE_OFFLINE)).all()


def test_it_writes_last_seen_battery_and_the_due_time(session, device):
    beat(session, device, NOW)
    assert (device.last_seen_at, device.battery) == (NOW, 77)
    assert device.offline_after == NOW + timedelta(seconds=60 + GRACE)


def test_it_leaves_a_device_alone_until_its_period_and_grace_have_passed(session, device):
    beat(session, device, NOW)
    assert watchdog.sweep(session, NOW + timedelta(seconds=89)) == []
    assert offline_alarms(session, device) == []


def test_it_raises_a_device_offline_alarm_once_overdue(session, device):
    beat(session, device, NOW)
    later = NOW + timedelta(seconds=90)
    assert watchdog.sweep(session, later) == [device.id]
    assert watchdog.sweep(session, later + timedelta(minutes=5)) == []  # claimed once
    session.refresh(device)
    [alarm] = offline_alarms(session, device)
    assert (alarm.state, alarm.severity.value, alarm.enrollee_id) == (
        AlarmState.OPEN, "high", device.enrollee_id)
    assert (device.offline_since, device.offline_after) == (later, None)


def test_it_marks_the_alarm_cleared_when_the_device_comes_back(session, device):
    beat(session, device, NOW)
    watchdog.sweep(session, NOW + timedelta(seconds=90))
    beat(session, device, NOW + timedelta(seconds=100))
    [alarm] = offline_alarms(session, device)
    # Cleared, yet still open: an operator acknowledges why it dropped off.
    assert alarm.cleared_at == NOW + timedelta(seconds=100)
    assert alarm.state == AlarmState.OPEN
    assert device.offline_since is None
    types = session.scalars(select(DeviceEvent.type).where(DeviceEvent.device_id == device.id)
                            .order_by(DeviceEvent.id)).all()
    assert types == ["offline", "online"]


def test_it_does_not_open_a_new_alarm_for_a_device_bouncing_on_and_off(session, device):
    at = NOW
    for _ in range(5):
        beat(session, device, at)
        at += timedelta(seconds=90)
        watchdog.sweep(session, at)
    [alarm] = offline_alarms(session, device)
    assert alarm.cleared_at is None  # offline again right now
    assert [e.kind for e in alarm.events].count("repeated") == 4


def test_it_groups_an_unassigned_devices_offline_alarms_by_device(session):
    spare = Device(serial="PND-SPARE", heartbeat_period_s=60, state=DeviceState.ACTIVE,
                   created_at=NOW)
    session.add(spare)
    session.flush()
    at = NOW
    for _ in range(3):
        beat(session, spare, at)
        at += timedelta(seconds=90)
        watchdog.sweep(session, at)
    assert len(offline_alarms(session, spare)) == 1


def test_it_takes_a_device_in_stock_offline_without_an_alarm(session):
    stock = Device(serial="PND-STOCK", heartbeat_period_s=60, created_at=NOW)
    session.add(stock)
    session.flush()
    beat(session, stock, NOW)
    assert watchdog.sweep(session, NOW + timedelta(seconds=90)) == [stock.id]
    assert offline_alarms(session, stock) == []


def test_a_last_will_takes_the_device_offline_at_once_and_once(session, device):
    beat(session, device, NOW)
    will = NOW + timedelta(seconds=5)
    assert watchdog.said_offline(session, device.id, will) is True
    session.refresh(device)
    assert (device.offline_since, device.offline_after) == (will, None)
    assert len(offline_alarms(session, device)) == 1
    # The broker's retained copy of the same will, heard again after a restart: nothing new.
    assert watchdog.said_offline(session, device.id, will + timedelta(minutes=1)) is False
    assert watchdog.sweep(session, will + timedelta(hours=1)) == []
    assert len(offline_alarms(session, device)) == 1
    assert session.scalar(select(func.count()).select_from(DeviceEvent).where(
        DeviceEvent.device_id == device.id, DeviceEvent.type == "offline")) == 1


def test_a_heartbeat_heard_before_the_will_and_written_after_it_changes_nothing(
        session, device):
    beat(session, device, NOW)
    will = NOW + timedelta(seconds=20)
    # The heartbeat process heard it at +19 s and writes its batch at +21 s, after the will.
    watchdog.said_offline(session, device.id, will)
    assert watchdog.flush_seen(session, [Seen(device.id, will - timedelta(seconds=1), 60)],
                               GRACE, will + timedelta(seconds=1)) == []
    session.refresh(device)
    assert device.offline_since == will
    [alarm] = offline_alarms(session, device)
    assert alarm.cleared_at is None


def test_it_finds_overdue_devices_through_the_index(session):
    query = ("SELECT id FROM device WHERE offline_after <= :now "
             "ORDER BY offline_after LIMIT 2000")
    if session.get_bind().dialect.name == "sqlite":
        plan = session.execute(text("EXPLAIN QUERY PLAN " + query),
                               {"now": NOW.replace(tzinfo=None)}).all()
    else:
        # A test table is tiny, where a scan is cheaper: ask whether the index can be used.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = session.execute(text("EXPLAIN " + query), {"now": NOW}).all()
    assert "ix_device_offline_after" in " ".join(str(row[-1]) for row in plan)


def test_it_writes_plain_tuples_sharing_a_time_each_with_its_own_period(session, device):
    other = Device(serial="PND-0002", kind=DeviceKind.PENDANT, heartbeat_period_s=30,
                   state=DeviceState.ACTIVE, created_at=NOW)
    session.add(other)
    session.flush()
    # As the heartbeat process passes them: (device id, at, period, battery), one `at` a tick.
    watchdog.flush_seen(session, [(device.id, NOW, 60, 55), (other.id, NOW, 30, None)],
                        GRACE, NOW)
    session.flush()
    session.refresh(device)
    session.refresh(other)
    assert (device.last_seen_at, device.offline_after, device.battery) == (
        NOW, NOW + timedelta(seconds=60 + GRACE), 55)
    assert (other.last_seen_at, other.offline_after, other.battery) == (
        NOW, NOW + timedelta(seconds=30 + GRACE), None)


def test_a_heartbeat_older_than_the_offline_does_not_bring_the_device_back(session):
    from datetime import timedelta

    from devices import watchdog
    from telecare.models import Device, DeviceState
    from tests.conftest import NOW

    device = Device(serial="OLD-BEAT-1", state=DeviceState.ACTIVE, created_at=NOW,
                    last_seen_at=NOW - timedelta(seconds=5), offline_since=NOW)
    session.add(device)
    session.flush()
    # Heard just before it said "offline", written just after the watchdog took it offline.
    stale = watchdog.Seen(device.id, NOW - timedelta(seconds=1), 60)
    assert watchdog.flush_seen(session, [stale], 30, NOW + timedelta(seconds=1)) == []
    session.refresh(device)
    assert device.offline_since == NOW
    fresh = watchdog.Seen(device.id, NOW + timedelta(seconds=2), 60)
    assert watchdog.flush_seen(session, [fresh], 30, NOW + timedelta(seconds=2)) == [device.id]
