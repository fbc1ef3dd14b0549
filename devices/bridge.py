"""The MQTT bridge: device events into the core, replies back; heartbeats; the watchdog.

- Events and status: MQTT 5, a persistent session (clean_start=False with an expiry), QoS 1
  acknowledged by hand only after the commit, on paho's network thread → a queue → the
  event worker, which applies them in small batches with its own SQLAlchemy session.
- Heartbeats: a process of their own (devices/heartbeats.py), so a flood of them never
  holds the GIL an alarm needs.
- Housekeeping: the watchdog sweep, with its own session.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from sqlalchemy.exc import DBAPIError

from devices import heartbeats, protocol, watchdog
from devices.badinput import BadInput
from devices.connection import BrokerAddress, make_client, session_properties
from devices.directory import DeviceDirectory
from devices.events import apply_event
from devices.outbox import Outbox
from telecare.db import begin_writing
from telecare.models import Device
from telecare.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 200  # events per transaction: one commit carries a burst of presses
SWEEP_BATCH = 200  # devices taken offline per transaction, so alarms appear progressively
# forkserver: the heartbeat process starts from a clean, single-threaded server (fork from
# this multi-threaded process could inherit a held lock), and after the first start quickly.
PROCESSES = multiprocessing.get_context("forkserver")
PROCESSES.set_forkserver_preload(["devices.heartbeats"])


@dataclass(frozen=True)
class Received:
    """A QoS 1 message waiting for its effect to be committed before it is acknowledged."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool
    at: float = field(default_factory=time.monotonic)


@dataclass
class BridgeStats:
    events: int = 0
    duplicates: int = 0
    committed_batches: int = 0
    status: int = 0
    # Seconds from receipt to commit of the latest events: where an alarm's time goes.
    commit_lag: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))


class Bridge:
    def __init__(self, runtime: Runtime, address: BrokerAddress, *, fault: str = ""):
        self.runtime = runtime
        self.settings = runtime.settings
        self.address = address
        # A test hook: "stall-before-commit" or "stall-after-commit" freezes the worker there,
        # so a test can SIGKILL the process at that exact point.
        self.fault = fault or os.environ.get("TELECARE_DEVICES_FAULT", "")
        self.directory = DeviceDirectory(runtime.sessions)
        self.bad = BadInput()
        self.stats = BridgeStats()
        self.connected = threading.Event()
        self._queue: queue.Queue[Received] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._shared = heartbeats.Shared.create(PROCESSES)
        self._heartbeats: multiprocessing.process.BaseProcess | None = None
        self.client = make_client(address, self.settings.mqtt.client_id, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribed
        self.outbox = Outbox(runtime, self.client, self.connected)

    @property
    def heartbeats_received(self) -> int:
        return self._shared.received.value

    @property
    def refused(self) -> int:
        """Messages refused as bad input, here and in the heartbeat process."""
        return self.bad.total + self._shared.refused.value

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Bridge:
        self._heartbeats = PROCESSES.Process(
            target=heartbeats.run, args=(self.settings, self.address, self._shared),
            name="devices-heartbeats", daemon=True)
        self._heartbeats.start()
        log.info("bridge: heartbeats in process %s", self._heartbeats.pid)
        known = self.directory.load()
        log.info("bridge: %d devices known; connecting to %s:%s", known, self.address.host,
                 self.address.port)
        self.client.connect_async(
            self.address.host, self.address.port, keepalive=30, clean_start=False,
            properties=session_properties(self.settings.mqtt.session_expiry_s))
        self.client.loop_start()
        for target, name in ((self._work, "devices-events"),
                             (self._housekeep, "devices-watchdog"),
                             (lambda: self.outbox.run(self._stop), "devices-commands")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._shared.stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()
        if self._heartbeats is not None:
            self._heartbeats.join(timeout=10)
            if self._heartbeats.is_alive():
                self._heartbeats.kill()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.connected.wait(timeout) and self._shared.connected.wait(timeout)

    # -- paho's network thread ---------------------------------------------------------------

    def _on_connect(self, client, _userdata, flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("bridge: broker refused the connection: %s", reason_code)
            return
        log.info("bridge: connected (session %s)",
                 "resumed" if flags.session_present else "new")
        # The broker kept our session and its subscriptions: subscribing again would only
        # have every retained status sent once more.
        if flags.session_present:
            self.connected.set()
        else:
            client.subscribe(protocol.event_subscriptions(self.settings.mqtt.shared_group))

    def _on_subscribed(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("bridge: broker refused a subscription: %s", reason_codes)
            return
        self.connected.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("bridge: disconnected (%s); paho reconnects with backoff", reason_code)

    def _on_message(self, client, _userdata, message: mqtt.MQTTMessage) -> None:
        # One bad message must never stop the rest: nothing escapes this handler.
        try:
            if message.qos == 0:
                self.bad.report("wrong_qos", protocol.sender(message.topic),
                                f"QoS 0 on {message.topic[-20:]}")
                return
            self._shared.events_pending.set()
            self._queue.put(Received(message.topic, message.payload, message.mid,
                                     message.qos, bool(message.retain)))
        except Exception:
            log.exception("bridge: unexpected error on %r", message.topic[:120])
            if message.qos:
                client.ack(message.mid, message.qos)

    # -- the event worker --------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._process(batch)
            if self._queue.empty():
                self._shared.events_pending.clear()

    def _process(self, batch: list[Received]) -> None:
        delay, careful = 0.05, False
        while not self._stop.is_set():
            try:
                replies = self._commit(batch, careful)
                break
            except DBAPIError:
                # The database is away: nothing was acknowledged, so nothing is lost; retry.
                log.exception("bridge: database error; retrying %d message(s) in %.1fs",
                              len(batch), delay)
                time.sleep(delay)
                delay = min(delay * 2, 30)
            except Exception:
                # A poison event: do the batch again one savepoint per event, so the others
                # still get through and the bad one is logged and skipped.
                log.exception("bridge: a batch of %d failed; again one by one", len(batch))
                careful = True
        else:
            return
        committed = time.monotonic()
        self.stats.commit_lag.extend(committed - item.at for item in batch)
        for serial, reply in replies:
            self.client.publish(protocol.topic(serial, "commands"), reply, qos=1)
        for item in batch:
            self.client.ack(item.mid, item.qos)

    def _commit(self, batch: list[Received], careful: bool) -> list[tuple[str, bytes]]:
        replies: list[tuple[str, bytes]] = []
        limit = self.settings.devices.max_payload_bytes
        with self.runtime.sessions() as session:
            begin_writing(session)  # reads, then writes, while heartbeats are written
            for item in batch:
                try:
                    message = protocol.parse(item.topic, item.payload, limit)
                    if isinstance(message, protocol.Heartbeat):
                        raise protocol.ProtocolError("a heartbeat at QoS 1")
                except protocol.ProtocolError as exc:
                    self.bad.report("bad_message", protocol.sender(item.topic), str(exc))
                    continue
                ref = self.directory.find(message.serial)
                if ref is None:
                    self.bad.report("unknown_device", message.serial, "no such device")
                    continue
                if isinstance(message, protocol.Status):
                    self._status(session, ref, message, item.retain)
                    continue
                reply = self._event(session, ref.id, message, careful)
                if reply:
                    replies.append((message.serial, reply))
            if self.fault == "stall-before-commit":
                self._stall("before commit")
            session.commit()
        self.stats.committed_batches += 1
        if self.fault == "stall-after-commit":
            self._stall("after commit")
        return replies

    def _status(self, session, ref, message: protocol.Status, retained: bool) -> None:
        self.stats.status += 1
        now = self.runtime.clock.now()
        if not message.online:
            # The device's Last Will (or a goodbye): offline now, its alarm opened.
            watchdog.said_offline(session, ref.id, now)
        elif not retained:
            # A retained "online" is only the broker's memory of an old connection.
            watchdog.flush_seen(session, [watchdog.Seen(ref.id, now, ref.period_s)],
                                self.settings.devices.grace_s, now)

    def _event(self, session, device_id: int, event: protocol.Event,
               careful: bool) -> bytes | None:
        if not careful:  # the usual case: no savepoint, a quarter fewer statements
            outcome = apply_event(session, session.get(Device, device_id), event,
                                  self.runtime.clock.now(), self.settings.devices)
            self.stats.events += 1
            self.stats.duplicates += outcome.duplicate
            return outcome.reply
        try:
            with session.begin_nested():
                device = session.get(Device, device_id)
                outcome = apply_event(session, device, event, self.runtime.clock.now(),
                                      self.settings.devices)
        except DBAPIError:
            raise
        except Exception:
            # A poison event must not hold up the stream behind it: logged, counted, acked.
            log.exception("bridge: could not apply %s from %s", event.type, event.serial)
            self.bad.counts["failed"] += 1
            return None
        self.stats.events += 1
        self.stats.duplicates += outcome.duplicate
        return outcome.reply

    def _stall(self, where: str) -> None:
        print(f"bridge: stalled {where}", flush=True)
        log.warning("bridge: stalled %s (TELECARE_DEVICES_FAULT)", where)
        while True:
            time.sleep(3600)

    # -- the watchdog ------------------------------------------------------------------------

    def _housekeep(self) -> None:
        every = self.settings.devices.watchdog_interval_ms / 1000
        while not self._stop.wait(every):
            try:
                self.sweep()
            except Exception:
                log.exception("bridge: watchdog sweep failed; trying again")

    def sweep(self) -> int:
        """Run the watchdog in committed batches until nothing is overdue."""
        taken = 0
        while not self._stop.is_set():
            with self.runtime.sessions() as session:
                begin_writing(session)  # reads, then writes, while heartbeats are written
                batch = watchdog.sweep(session, self.runtime.clock.now(), limit=SWEEP_BATCH)
                session.commit()
            taken += len(batch)
            if len(batch) < SWEEP_BATCH:
                break
        return taken
