"""The MQTT bridge: device events into the core, heartbeats into last-seen, replies back.

Threads, each with its own SQLAlchemy session (never shared):
- paho's network thread: parses heartbeats into memory and queues everything at QoS 1;
- the event worker: applies queued events in small batches, commits, and only then
  acknowledges them to the broker (manual_ack) and sends the devices their replies;
- housekeeping: writes last-seen in batches, then runs the watchdog sweep.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from sqlalchemy.exc import DBAPIError

from devices import protocol, watchdog
from devices.badinput import BadInput
from devices.connection import BrokerAddress, make_client, session_properties
from devices.directory import DeviceDirectory
from devices.events import apply_event
from telecare.models import Device
from telecare.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 200  # events per transaction: one commit carries a burst of presses
OFFLINE_REFRESH_S = 10.0
SWEEP_BATCH = 200  # devices taken offline per transaction, so alarms appear progressively


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
    heartbeats: int = 0
    committed_batches: int = 0
    status: int = 0


def _sender(topic: str) -> str:
    """Who a refused message claims to come from: the device segment of its topic."""
    return topic.removeprefix(protocol.ROOT).split("/", 1)[0][:64]


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
        self._seen: dict[int, watchdog.Seen] = {}
        self._seen_lock = threading.Lock()
        # Devices known to be offline: only these are looked up when heartbeats are written.
        self._offline: set[int] = set()
        self._offline_refresh_at = 0.0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.client = make_client(address, self.settings.mqtt.client_id, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Bridge:
        known = self.directory.load()
        log.info("bridge: %d devices known; connecting to %s:%s", known, self.address.host,
                 self.address.port)
        self.client.connect_async(
            self.address.host, self.address.port, keepalive=30, clean_start=False,
            properties=session_properties(self.settings.mqtt.session_expiry_s))
        self.client.loop_start()
        for target, name in ((self._work, "devices-events"),
                             (self._housekeep, "devices-housekeeping")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.connected.wait(timeout)

    # -- paho's network thread ---------------------------------------------------------------

    def _on_connect(self, client, _userdata, flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("bridge: broker refused the connection: %s", reason_code)
            return
        # The broker kept our session (and its subscriptions): subscribing again would only
        # have every retained status sent once more.
        if not flags.session_present:
            client.subscribe(protocol.subscriptions(self.settings.mqtt.shared_group))
        log.info("bridge: connected (session %s)",
                 "resumed" if flags.session_present else "new")
        self.connected.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("bridge: disconnected (%s); paho reconnects with backoff", reason_code)

    def _on_message(self, client, _userdata, message: mqtt.MQTTMessage) -> None:
        # One bad message must never stop the rest: nothing escapes this handler.
        try:
            if message.qos == 0:
                self._heartbeat(message.topic, message.payload)
                return
            self._queue.put(Received(message.topic, message.payload, message.mid,
                                     message.qos, bool(message.retain)))
        except Exception:
            log.exception("bridge: unexpected error on %r", message.topic[:120])
            if message.qos:
                client.ack(message.mid, message.qos)

    def _heartbeat(self, topic: str, payload: bytes) -> None:
        try:
            beat = protocol.parse(topic, payload, self.settings.devices.max_payload_bytes)
        except protocol.ProtocolError as exc:
            self.bad.report("bad_message", _sender(topic), str(exc))
            return
        if not isinstance(beat, protocol.Heartbeat):
            self.bad.report("wrong_qos", beat.serial, f"QoS 0 on {topic[-20:]}")
            return
        ref = self.directory.cached(beat.serial)
        if ref is None:
            # Unknown here; the worker looks it up in the database without blocking us.
            self._queue.put(Received(topic, payload, 0, 0, False))
            return
        self._note_seen(ref.id, ref.period_s, beat.battery)

    def _note_seen(self, device_id: int, period_s: int, battery: int | None) -> None:
        now = self.runtime.clock.now()
        with self._seen_lock:
            self._seen[device_id] = watchdog.Seen(device_id, now, period_s, battery)
        self.stats.heartbeats += 1

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

    def _process(self, batch: list[Received]) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                replies = self._commit(batch)
                break
            except DBAPIError:
                # The database is away: nothing was acknowledged, so nothing is lost; retry.
                log.exception("bridge: database error; retrying %d message(s) in %.1fs",
                              len(batch), delay)
                time.sleep(delay)
                delay = min(delay * 2, 30)
        else:
            return
        for serial, reply in replies:
            self.client.publish(protocol.topic(serial, "commands"), reply, qos=1)
        for item in batch:
            if item.qos:
                self.client.ack(item.mid, item.qos)

    def _commit(self, batch: list[Received]) -> list[tuple[str, bytes]]:
        replies: list[tuple[str, bytes]] = []
        limit = self.settings.devices.max_payload_bytes
        with self.runtime.sessions() as session:
            for item in batch:
                try:
                    message = protocol.parse(item.topic, item.payload, limit)
                except protocol.ProtocolError as exc:
                    self.bad.report("bad_message", _sender(item.topic), str(exc))
                    continue
                ref = self.directory.find(message.serial)
                if ref is None:
                    self.bad.report("unknown_device", message.serial, "no such device")
                    continue
                if isinstance(message, protocol.Heartbeat):
                    self._note_seen(ref.id, ref.period_s, message.battery)
                elif isinstance(message, protocol.Status):
                    self.stats.status += 1
                    if message.online and not item.retain:
                        self._note_seen(ref.id, ref.period_s, None)
                    elif not message.online:
                        with self._seen_lock:
                            self._seen.pop(ref.id, None)
                        watchdog.mark_due(session, ref.id, self.runtime.clock.now())
                else:
                    reply = self._event(session, ref.id, message)
                    if reply:
                        replies.append((message.serial, reply))
            if self.fault == "stall-before-commit":
                self._stall("before commit")
            session.commit()
        self.stats.committed_batches += 1
        if self.fault == "stall-after-commit":
            self._stall("after commit")
        return replies

    def _event(self, session, device_id: int, event: protocol.Event) -> bytes | None:
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

    # -- housekeeping: last-seen batches and the watchdog ------------------------------------

    def _housekeep(self) -> None:
        flush_s = self.settings.devices.heartbeat_flush_ms / 1000
        sweep_s = self.settings.devices.watchdog_interval_ms / 1000
        next_sweep = time.monotonic()
        while not self._stop.wait(flush_s):
            try:
                self.flush()
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + sweep_s
            except Exception:
                log.exception("bridge: housekeeping failed; trying again")
        self.flush()

    def flush(self) -> int:
        with self._seen_lock:
            seen, self._seen = list(self._seen.values()), {}
        if not seen:
            return 0
        if time.monotonic() >= self._offline_refresh_at:
            # Other bridge processes take devices offline too: learn about them now and then.
            with self.runtime.sessions() as session:
                self._offline = watchdog.offline_ids(session)
            self._offline_refresh_at = time.monotonic() + OFFLINE_REFRESH_S
        with self.runtime.sessions() as session:
            back = watchdog.flush_seen(session, seen, self.settings.devices.grace_s,
                                       self.runtime.clock.now(), maybe_offline=self._offline)
            session.commit()
        self._offline.difference_update(back)
        return len(seen)

    def sweep(self) -> int:
        """Run the watchdog in committed batches until nothing is overdue."""
        taken = 0
        while not self._stop.is_set():
            with self.runtime.sessions() as session:
                batch = watchdog.sweep(session, self.runtime.clock.now(), limit=SWEEP_BATCH)
                session.commit()
            self._offline.update(batch)
            taken += len(batch)
            if len(batch) < SWEEP_BATCH:
                break
            self.flush()  # heartbeats that arrived meanwhile are not mistaken for silence
        return taken
