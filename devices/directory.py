"""Serial → device, kept in memory so a heartbeat costs no query; unknown serials cached too."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from telecare.models import Device, DeviceState

UNKNOWN_TTL_S = 60.0  # a hostile client inventing serials costs one query a minute per serial
MAX_UNKNOWN = 100_000


@dataclass(frozen=True)
class DeviceRef:
    id: int
    serial: str
    period_s: int


class DeviceDirectory:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions
        self._known: dict[str, DeviceRef] = {}
        self._unknown: dict[str, float] = {}
        self._lock = threading.Lock()

    def load(self) -> int:
        with self._sessions() as session:
            rows = session.execute(select(Device.id, Device.serial, Device.heartbeat_period_s)
                                   .where(Device.state != DeviceState.RETIRED)).all()
        with self._lock:
            self._known = {serial: DeviceRef(i, serial, period) for i, serial, period in rows}
        return len(rows)

    def cached(self, serial: str) -> DeviceRef | None:
        """From memory only (the network thread must not wait on the database)."""
        return self._known.get(serial)

    def find(self, serial: str) -> DeviceRef | None:
        """From memory, else from the database (a device provisioned since the last load)."""
        ref = self._known.get(serial)
        if ref is not None:
            return ref
        missed = self._unknown.get(serial)
        if missed is not None and time.monotonic() - missed < UNKNOWN_TTL_S:
            return None
        with self._sessions() as session:
            row = session.execute(select(Device.id, Device.heartbeat_period_s).where(
                Device.serial == serial, Device.state != DeviceState.RETIRED)).first()
        with self._lock:
            if row is None:
                if len(self._unknown) >= MAX_UNKNOWN:
                    self._unknown.clear()
                self._unknown[serial] = time.monotonic()
                return None
            ref = DeviceRef(row[0], serial, row[1])
            self._known[serial] = ref
            self._unknown.pop(serial, None)
            return ref
