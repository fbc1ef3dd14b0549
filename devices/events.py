"""What a device event does: raise or clear an alarm, mark the button tested, and the reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.protocol import Event, command
from telecare import alarms
from telecare.models import AlarmKind, Device, DeviceEvent, Severity
from telecare.settings import DevicesSettings

PRESSES = {"alarm": AlarmKind.BUTTON, "fall": AlarmKind.FALL}


@dataclass(frozen=True)
class Outcome:
    reply: bytes | None  # the command to send the device once the effect is committed
    duplicate: bool = False


def apply_event(session: Session, device: Device, event: Event, now: datetime,
                settings: DevicesSettings) -> Outcome:
    """Record one event and its effect, or recognise a redelivery; the caller commits."""
    seen = session.scalars(select(DeviceEvent).where(
        DeviceEvent.device_id == device.id, DeviceEvent.seq == event.seq)).first()
    if seen is not None:
        # A redelivery (the bridge died before acknowledging): nothing changes, but the
        # device may not have had its answer, so it gets it again.
        return Outcome(_reply(seen.type, seen.alarm_id), duplicate=True)
    row = DeviceEvent(device_id=device.id, seq=event.seq, type=event.type, device_ts=event.ts,
                      received_at=now, detail=_detail(event))
    session.add(row)
    if event.type in PRESSES:
        alarm, _new = alarms.raise_alarm(
            session, enrollee_id=device.enrollee_id, kind=PRESSES[event.type],
            severity=Severity.CRITICAL, now=now, device_id=device.id, serial=device.serial,
            seq=event.seq)
        row.alarm_id = alarm.id
    elif event.type == "test":
        device.last_test_at = now
    elif event.type == "battery":
        row.alarm_id = _battery(session, device, event.level, now, settings)
    elif event.type == "power":
        device.mains_power = event.mains
    device.last_seen_at = max(device.last_seen_at or now, now)
    session.flush()
    return Outcome(_reply(event.type, row.alarm_id))


def _battery(session: Session, device: Device, level: int, now: datetime,
             settings: DevicesSettings) -> int | None:
    device.battery = level
    if level <= settings.low_battery_percent:
        alarm, _ = alarms.raise_alarm(session, enrollee_id=device.enrollee_id,
                                      kind=AlarmKind.LOW_BATTERY, severity=Severity.LOW, now=now,
                                      device_id=device.id, serial=device.serial, level=level)
        return alarm.id
    if level > settings.battery_recovered_percent:
        open_alarm = alarms.unresolved_for_device(session, device.id, AlarmKind.LOW_BATTERY)
        if open_alarm is not None:
            alarms.clear(session, open_alarm, now, reason=f"battery at {level}%")
    return None


def _detail(event: Event) -> dict:
    if event.level is not None:
        return {"level": event.level}
    if event.mains is not None:
        return {"mains": event.mains}
    return {}


def _reply(kind: str, alarm_id: int | None) -> bytes | None:
    if kind in PRESSES:
        return command("alarm_received", alarm=alarm_id)
    if kind == "test":
        return command("test_ok")
    return None
