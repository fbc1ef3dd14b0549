"""Last-seen batches and the watchdog: overdue devices go offline, returning ones come back.

healthchecks' model: each device has a due time (`offline_after` = last seen + its period +
a grace), indexed, so a sweep reads only overdue rows, and claims each with a conditional
UPDATE whose row count says whether another process got there first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from telecare import alarms
from telecare.models import AlarmKind, Device, DeviceEvent, DeviceState, Severity

log = logging.getLogger(__name__)


class Seen(NamedTuple):
    """A device heard from (heartbeat or status online), as kept in memory between flushes.

    A tuple: the heartbeat process keeps one per device heard and passes plain tuples of these
    four fields, in this order, to flush_seen.
    """

    device_id: int
    at: datetime
    period_s: int
    battery: int | None = None


# The hot path: one row per heartbeat, thousands a second. The rows go to the driver's
# executemany as tuples, with times already in the column's storage form: SQLAlchemy's own
# per-row processing (the UTCDateTime type, the parameter dicts) cost twice the UPDATE itself.
# Offline devices are left out, so the row count says whether any of them came back.
_WRITE_SEEN = ("UPDATE device SET last_seen_at = {0}, offline_after = {0}, "
               "battery = COALESCE({0}, battery) WHERE id = {0} AND offline_since IS NULL")


def flush_seen(session: Session, seen: list[Seen] | list[tuple], grace_s: int,
               now: datetime) -> list[int]:
    """Write a batch of last-seen times in one statement; bring back offline devices.

    Returns the devices that came back online.
    """
    if not seen:
        return []
    connection = session.connection()
    stamp = _storage_form(connection.dialect.name)
    statement = _WRITE_SEEN.format("?" if connection.dialect.paramstyle == "qmark" else "%s")
    grace = timedelta(seconds=grace_s)
    # Heartbeats read in the same tick share their time (devices/heartbeats.py): the storage
    # forms are worked out once per time and period, not once per row.
    times: dict[tuple[datetime, int], tuple] = {}
    rows = []
    for device_id, at, period_s, battery in seen:
        pair = times.get((at, period_s))
        if pair is None:
            pair = times[at, period_s] = (stamp(at),
                                          stamp(at + timedelta(seconds=period_s) + grace))
        rows.append((pair[0], pair[1], battery, device_id))
    written = connection.exec_driver_sql(statement, rows).rowcount
    if written == len(rows):
        return []  # the usual case: every device was online already
    heard_at = {device_id: at for device_id, at, _period, _battery in seen}
    ids = list(heard_at)
    returning: list[Device] = []
    for start in range(0, len(ids), 500):  # keep IN lists short for SQLite's variable limit
        returning += session.scalars(select(Device).where(
            Device.id.in_(ids[start:start + 500]), Device.offline_since.is_not(None))).all()
    # Only a heartbeat heard after the device went offline brings it back: one buffered
    # before its "offline" (and flushed after the watchdog acted on it) is old news.
    returning = [device for device in returning
                 if heard_at[device.id] >= device.offline_since]
    for device in returning:
        back_online(session, device, now)
    session.flush()
    back = {device.id for device in returning}
    if back:
        connection.exec_driver_sql(statement, [row for row in rows if row[3] in back])
    return sorted(back)


def _storage_form(dialect_name: str):
    """How UTCDateTime stores a time on this database (SQLite: naive UTC text)."""
    if dialect_name == "sqlite":
        return lambda at: at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return lambda at: at


def back_online(session: Session, device: Device, now: datetime) -> None:
    session.add(DeviceEvent(device_id=device.id, type="online", received_at=now,
                            detail={"offline_since": device.offline_since.isoformat()}))
    device.offline_since = None
    alarm = alarms.unresolved_for_device(session, device.id, AlarmKind.DEVICE_OFFLINE)
    if alarm is not None:
        # Cleared, not resolved: someone still looks at why it dropped off.
        alarms.clear(session, alarm, now, reason="device back online")


def said_offline(session: Session, device_id: int, now: datetime) -> bool:
    """The device said it is going (its Last Will, or a goodbye): offline now; the caller commits.

    Taken offline at once rather than left due for the next sweep: a heartbeat heard before
    the will but written after it would otherwise push the due time a whole period on.
    Returns whether this call took it offline (False when it already was).
    """
    return bool(_take_offline(session, [device_id], now,
                              Device.offline_since.is_(None)))


def sweep(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Take overdue devices offline and raise their alarms; the caller commits.

    Returns the devices taken offline.
    """
    due = session.scalars(select(Device.id).where(Device.offline_after <= now)
                          .order_by(Device.offline_after).limit(limit)).all()
    if not due:
        return []
    return _take_offline(session, due, now, Device.offline_after <= now)


def _take_offline(session: Session, ids, now: datetime, still) -> list[int]:
    """Mark the devices offline where `still` holds, open their alarms; returns those taken."""
    # One conditional UPDATE claims the batch; RETURNING says which rows this process got
    # (another bridge process, or a heartbeat just written, may have taken some).
    claimed = session.scalars(
        update(Device).where(Device.id.in_(ids), still)
        .values(offline_since=now, offline_after=None).returning(Device.id)
        .execution_options(synchronize_session=False)).all()
    if not claimed:
        return []
    devices = session.scalars(select(Device).where(Device.id.in_(claimed))
                              .execution_options(populate_existing=True)).all()
    for device in devices:
        event = DeviceEvent(device_id=device.id, type="offline", received_at=now,
                            detail={"last_seen_at": device.last_seen_at.isoformat()
                                    if device.last_seen_at else None})
        session.add(event)
        if device.state == DeviceState.ACTIVE:
            alarm, _ = alarms.raise_alarm(
                session, enrollee_id=device.enrollee_id, kind=AlarmKind.DEVICE_OFFLINE,
                severity=Severity.HIGH, now=now, device_id=device.id, serial=device.serial)
            event.alarm_id = alarm.id
    log.info("watchdog: %d device(s) went offline", len(devices))
    return [device.id for device in devices]
