"""Heartbeat ingest, in a process of its own.

Thousands of heartbeats a second keep a Python thread busy; sharing a GIL with the alarm
path, they made every alarm wait (each SQL statement of an alarm gave the GIL up and waited
to get it back). In their own process they cost the alarm path nothing but a CPU share.
Last-seen is kept in memory and written in one statement per batch.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from devices import protocol, watchdog
from devices.badinput import BadInput
from devices.connection import BrokerAddress, make_client
from devices.directory import DeviceDirectory
from telecare import logs
from telecare.runtime import Runtime
from telecare.settings import Settings

log = logging.getLogger(__name__)

HEARTBEAT_NICENESS = 5
WRITE_CHUNK = 200
COUNT_EVERY = 100
COUNT_TICK_S = 0.05
STAMP_S = 0.05  # last-seen precision (see HeartbeatIngest.__init__)
MAX_STEP_ASIDE_S = 0.5  # an alarm storm may delay last-seen, never stop it
MAX_UNRESOLVED = 10_000  # heartbeats of serials not in memory yet, looked up at the flush


@dataclass
class Shared:
    """What the bridge's process and the heartbeat process share."""

    received: multiprocessing.sharedctypes.Synchronized
    refused: multiprocessing.sharedctypes.Synchronized
    connected: multiprocessing.synchronize.Event
    stop: multiprocessing.synchronize.Event
    # Set by the bridge while events wait to be committed: heartbeat writes step aside.
    events_pending: multiprocessing.synchronize.Event
    bridge_pid: int

    @classmethod
    def create(cls, context) -> Shared:
        return cls(context.Value("q", 0), context.Value("q", 0), context.Event(),
                   context.Event(), context.Event(), os.getpid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run(settings: Settings, address: BrokerAddress, shared: Shared) -> None:
    """The heartbeat process's entry point: ingest until `shared.stop` is set."""
    # The same [log] format as the process that started us (JSON lines in production).
    logs.configure(settings.log)
    # Alarms outrank heartbeats: when the CPU is short, the scheduler serves the bridge's
    # event worker first, and a heartbeat written a little later costs nothing.
    os.nice(HEARTBEAT_NICENESS)
    # Ctrl-C reaches the whole process group; the bridge that started us stops us in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    runtime = Runtime(settings)
    try:
        HeartbeatIngest(runtime, address, shared).run()
    finally:
        runtime.close()


class HeartbeatIngest:
    def __init__(self, runtime: Runtime, address: BrokerAddress, shared: Shared):
        self.runtime = runtime
        self.settings = runtime.settings
        self.shared = shared
        self.directory = DeviceDirectory(runtime.sessions)
        self.bad = BadInput()
        # Written by the network thread only, without a lock: the flush takes the entries out
        # one popitem() at a time (each atomic), so a heartbeat stored meanwhile is either
        # taken now or left for the next flush, never lost.
        self._seen: dict[int, tuple] = {}  # device id → watchdog.Seen's fields, as a tuple
        self._unresolved: dict[str, tuple] = {}  # serial → (at, battery)
        # Heartbeats accepted, ever (the network thread's count), and how many of them have
        # been added to the shared count (under the lock: the network thread adds every
        # COUNT_EVERY, the loop adds the rest at each tick).
        self._received = 0
        self._shared_upto = 0
        self._count_lock = threading.Lock()
        # Last-seen is the time of the heartbeat to the nearest STAMP_S, read from the clock
        # at most once per STAMP_S rather than per heartbeat: precise enough against periods
        # of a minute and a grace of seconds, and it spares a datetime per message.
        self._now = runtime.clock.now()
        self._now_until = 0.0
        self._max_bytes = self.settings.devices.max_payload_bytes
        # MQTT 3.1.1: paho reads its packets at about twice the rate of MQTT 5's (no
        # properties to parse), and QoS 0 needs no session: no broker queues it for us.
        self.client = make_client(address, f"{self.settings.mqtt.client_id}-heartbeats",
                                  protocol=mqtt.MQTTv311)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = lambda *_: shared.connected.clear()
        self.client.on_message = self._on_message
        self.address = address

    def run(self) -> None:
        self.directory.load()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()
        flush_s = self.settings.devices.heartbeat_flush_ms / 1000
        next_flush = time.monotonic() + flush_s
        try:
            while not self.shared.stop.wait(COUNT_TICK_S):
                # The count is shared every COUNT_EVERY heartbeats, and what is left over at
                # each tick: the last few of a burst must not wait for the flush to be counted.
                self._share_count()
                if time.monotonic() < next_flush:
                    continue
                next_flush = time.monotonic() + flush_s
                if not _alive(self.shared.bridge_pid):
                    # The bridge was killed (SIGKILL, OOM): a heartbeat process left behind
                    # would hold its client id and fight the next bridge's for the session.
                    log.warning("heartbeats: the bridge (pid %s) is gone; stopping",
                                self.shared.bridge_pid)
                    break
                try:
                    self.flush()
                except Exception:
                    log.exception("heartbeats: writing last-seen failed; trying again")
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            self.flush()

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("heartbeats: broker refused the connection: %s", reason_code)
            return
        client.subscribe(protocol.heartbeat_subscriptions(self.settings.mqtt.shared_group))

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("heartbeats: broker refused the subscription: %s", reason_codes)
            return
        self.shared.connected.set()

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        # Nothing escapes: one bad heartbeat must not stop the rest.
        try:
            self._heartbeat(message.topic, message.payload)
        except Exception:
            log.exception("heartbeats: unexpected error on %r", message.topic[:120])

    def _heartbeat(self, topic: str, payload: bytes) -> None:
        try:
            serial, battery = protocol.heartbeat(topic, payload, self._max_bytes)
        except protocol.ProtocolError as exc:
            self._refuse("bad_message", protocol.sender(topic), str(exc))
            return
        tick = time.monotonic()
        if tick >= self._now_until:
            self._now = self.runtime.clock.now()
            self._now_until = tick + STAMP_S
        self._received += 1
        if self._received - self._shared_upto >= COUNT_EVERY:
            self._share_count()
        ref = self.directory.cached(serial)
        if ref is not None:
            self._seen[ref.id] = (ref.id, self._now, ref.period_s, battery)
        elif len(self._unresolved) < MAX_UNRESOLVED:
            # Not in memory: the flush looks it up, off the network thread.
            self._unresolved[serial] = (self._now, battery)
        else:
            self._refuse("unknown_device", serial, "too many unknown devices at once")

    def _refuse(self, reason: str, sender: str, message: str) -> None:
        self.bad.report(reason, sender, message)
        with self.shared.refused.get_lock():
            self.shared.refused.value += 1

    def _share_count(self) -> None:
        with self._count_lock:
            received = self._received - self._shared_upto
            self._shared_upto += received
        if received:
            with self.shared.received.get_lock():
                self.shared.received.value += received

    def flush(self) -> int:
        self._share_count()
        seen = [row for _, row in _drain(self._seen)]
        for serial, (at, battery) in _drain(self._unresolved):
            ref = self.directory.find(serial)
            if ref is None:
                self._refuse("unknown_device", serial, "no such device")
            else:
                seen.append((ref.id, at, ref.period_s, battery))
        if seen:
            self._write(seen)
        return len(seen)

    def _write(self, seen: list[tuple]) -> None:
        # Short transactions, each after any pending event: SQLite has one writer at a time,
        # and back-to-back heartbeat writes would starve an alarm's commit (SQLite's busy
        # handler sleeps and retries; we would not). 200 rows hold the lock a few ms.
        for start in range(0, len(seen), WRITE_CHUNK):
            deadline = time.monotonic() + MAX_STEP_ASIDE_S
            while self.shared.events_pending.is_set() and time.monotonic() < deadline:
                time.sleep(0.002)
            with self.runtime.sessions() as session:
                watchdog.flush_seen(session, seen[start:start + WRITE_CHUNK],
                                    self.settings.devices.grace_s, self.runtime.clock.now())
                session.commit()


def _drain(entries: dict) -> list[tuple]:
    """Take every entry out of a dict another thread goes on writing to, losing none."""
    taken = []
    while entries:
        try:
            taken.append(entries.popitem())
        except KeyError:  # emptied meanwhile
            break
    return taken
