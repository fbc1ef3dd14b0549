"""Commands the rest of the service left for devices (help_coming), published by the bridge.

The web console or a Twilio webhook acknowledges an alarm in its own process and writes a
device_command row in that same transaction; the bridge, which holds the MQTT connection,
publishes what is pending. Each row is claimed with a conditional UPDATE before it is
published, so two bridges sharing the load never send one command twice, and a command
whose publish fails is put back for the next round.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select, update

from devices import protocol
from telecare.db import begin_writing, session_scope
from telecare.models import Device, DeviceCommand
from telecare.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 100
POLL_S = 0.25  # an operator taking charge reaches the pendant within a fraction of a second
PUBLISH_TIMEOUT_S = 5.0


class Outbox:
    def __init__(self, runtime: Runtime, client, connected: threading.Event):
        self.runtime, self.client, self.connected = runtime, client, connected

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(POLL_S):
            if not self.connected.is_set():
                continue
            try:
                while self.publish_pending() == BATCH and not stop.is_set():
                    pass
            except Exception:
                log.exception("bridge: publishing device commands failed; trying again")

    def publish_pending(self) -> int:
        claimed = self._claim()
        for command_id, serial, name, fields in claimed:
            info = self.client.publish(protocol.topic(serial, "commands"),
                                       protocol.command(name, **fields), qos=1)
            try:
                info.wait_for_publish(PUBLISH_TIMEOUT_S)
                delivered = info.is_published()
            except (RuntimeError, ValueError):
                delivered = False
            if delivered:
                log.info("bridge: %s sent to %s", name, serial)
            else:
                self._release(command_id)
        return len(claimed)

    def _claim(self) -> list[tuple[int, str, str, dict]]:
        now = self.runtime.clock.now()
        with session_scope(self.runtime.sessions) as session:
            # Look first without the write lock: on SQLite taking it four times a second
            # for nothing would make an alarm's commit wait behind us.
            if session.scalar(select(DeviceCommand.id).where(DeviceCommand.sent_at.is_(None))
                              .limit(1)) is None:
                return []
            session.rollback()
            begin_writing(session)
            # Chosen first, then updated by id: as a subquery of the UPDATE, PostgreSQL may
            # run a LIMIT ... SKIP LOCKED more than once and claim more than a batch.
            chosen = session.scalars(
                select(DeviceCommand.id).where(DeviceCommand.sent_at.is_(None))
                .order_by(DeviceCommand.id).limit(BATCH)
                .with_for_update(skip_locked=True)).all()
            # sent_at in the WHERE as well: another bridge may have taken some meanwhile.
            ids = session.scalars(
                update(DeviceCommand)
                .where(DeviceCommand.id.in_(chosen),
                       DeviceCommand.sent_at.is_(None))
                .values(sent_at=now).returning(DeviceCommand.id)
                .execution_options(synchronize_session=False)).all()
            rows = session.execute(
                select(DeviceCommand.id, Device.serial, DeviceCommand.command,
                       DeviceCommand.fields)
                .join(Device, Device.id == DeviceCommand.device_id)
                .where(DeviceCommand.id.in_(ids)).order_by(DeviceCommand.id)).all() if ids \
                else []
            claimed = [(row.id, row.serial, row.command, dict(row.fields or {}))
                       for row in rows]
        return claimed

    def _release(self, command_id: int) -> None:
        log.warning("bridge: command %s not confirmed by the broker; will send again",
                    command_id)
        with session_scope(self.runtime.sessions) as session:
            begin_writing(session)
            session.execute(update(DeviceCommand).where(DeviceCommand.id == command_id)
                            .values(sent_at=None).execution_options(synchronize_session=False))
