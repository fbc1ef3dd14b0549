"""A simulated fleet: heartbeats with jitter, occasional presses, tests, low batteries, dropouts.

Many devices share a few MQTT connections (a device's topics are in the message, not the
connection), so 100,000 devices fit on one machine. That needs a broker that lets one client
write many devices' topics: the embedded one, or a test user outside the %u ACL.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from devices.connection import BrokerAddress, make_client
from devices.protocol import topic
from telecare.models import Device, DeviceKind, DeviceState, Enrollee

log = logging.getLogger(__name__)


@dataclass
class Behaviour:
    """Per-heartbeat chances of something happening; the defaults make a lively demo."""

    period_s: float = 60.0
    jitter_s: float = 2.0
    press: float = 1 / 20_000
    fall: float = 1 / 100_000
    test: float = 1 / 10_000
    battery_drain: float = 1 / 500  # chance a heartbeat reports one percent less
    drop_off: float = 1 / 50_000  # goes silent (a flat battery, out of range)...
    come_back_s: float = 300.0  # ...and returns after about this long
    last_will: float = 0.3  # share of drop-offs that announce themselves "offline"


@dataclass
class SimDevice:
    serial: str
    seq: int
    battery: int
    silent_until: float = 0.0  # monotonic; infinity: gone for good
    last_beat: float = 0.0  # wall-clock time of the last heartbeat sent (benchmarks read it)


@dataclass
class FleetStats:
    heartbeats: int = 0
    events: dict[str, int] = field(default_factory=dict)
    drop_offs: int = 0
    pressed: set[str] = field(default_factory=set)  # devices that sent an alarm or a fall


def ensure_devices(sessions: sessionmaker[Session], count: int, period_s: int,
                   prefix: str = "SIM-", now: datetime | None = None) -> list[str]:
    """The fleet's serials, creating the missing rows (active; given to enrollees without one)."""
    now = now or datetime.now(UTC)
    serials = [f"{prefix}{n:06d}" for n in range(1, count + 1)]
    with sessions() as session:
        existing = set(session.scalars(select(Device.serial)
                                       .where(Device.serial.startswith(prefix))).all())
        missing = [s for s in serials if s not in existing]
        if missing:
            taken = select(Device.enrollee_id).where(Device.enrollee_id.is_not(None))
            free = list(session.scalars(select(Enrollee.id).where(Enrollee.id.not_in(taken))
                                        .order_by(Enrollee.id).limit(len(missing))).all())
            rows = [{"serial": s, "kind": DeviceKind.PENDANT, "heartbeat_period_s": period_s,
                     "state": DeviceState.ACTIVE, "created_at": now,
                     "enrollee_id": free[i] if i < len(free) else None}
                    for i, s in enumerate(missing)]
            for start in range(0, len(rows), 5000):
                session.execute(insert(Device), rows[start:start + 5000])
            session.commit()
    return serials


class Fleet:
    def __init__(self, address: BrokerAddress, serials: list[str], *, connections: int = 4,
                 behaviour: Behaviour | None = None, seed: int = 2026):
        self.behaviour = behaviour or Behaviour()
        self.rng = random.Random(seed)
        # Sequence numbers start from the clock so a restarted simulator never repeats one.
        base = int(time.time() * 1000)
        self.devices = [SimDevice(s, base, self.rng.randint(40, 100)) for s in serials]
        self.stats = FleetStats()
        self.clients = []
        for n in range(max(1, connections)):
            client = make_client(address, f"telecare-sim-{n}-{base}")
            client.max_inflight_messages_set(10_000)
            client.connect(address.host, address.port, keepalive=30)
            client.loop_start()
            self.clients.append(client)
        start = time.monotonic()
        period = self.behaviour.period_s
        # Spread the first heartbeats over one period, as real devices switched on over time.
        self._due = [(start + self.rng.uniform(0, period), i) for i in range(len(self.devices))]
        heapq.heapify(self._due)
        self._stop = threading.Event()

    def _client(self, index: int):
        return self.clients[index % len(self.clients)]

    def publish(self, index: int, leaf: str, payload: dict | str, qos: int) -> None:
        device = self.devices[index]
        body = payload if isinstance(payload, str) else json.dumps(payload)
        self._client(index).publish(topic(device.serial, leaf), body, qos=qos,
                                    retain=leaf == "status")

    def event(self, index: int, kind: str, **fields) -> None:
        device = self.devices[index]
        device.seq += 1
        self.publish(index, "events", {"seq": device.seq, "type": kind, "ts": _iso_now(),
                                       **fields}, qos=1)
        self.stats.events[kind] = self.stats.events.get(kind, 0) + 1
        if kind in ("alarm", "fall"):
            self.stats.pressed.add(device.serial)

    def step(self, now: float) -> int:
        """Publish everything due by `now`; returns how many heartbeats went out."""
        b, rng, sent = self.behaviour, self.rng, 0
        while self._due and self._due[0][0] <= now:
            _, index = heapq.heappop(self._due)
            device = self.devices[index]
            next_at = now + b.period_s + rng.uniform(-b.jitter_s, b.jitter_s)
            heapq.heappush(self._due, (next_at, index))
            if device.silent_until > now:
                continue
            if device.silent_until:
                device.silent_until = 0.0
                self.publish(index, "status", "online", qos=1)
            if rng.random() < b.drop_off:
                device.silent_until = now + rng.expovariate(1 / b.come_back_s)
                self.stats.drop_offs += 1
                if rng.random() < b.last_will:
                    self.publish(index, "status", "offline", qos=1)
                continue
            if rng.random() < b.battery_drain and device.battery > 0:
                device.battery -= 1
                if device.battery in (20, 10, 5):
                    self.event(index, "battery", level=device.battery)
            self.publish(index, "heartbeat", {"ts": _iso_now(), "battery": device.battery}, 0)
            device.last_beat = time.time()
            sent += 1
            roll = rng.random()
            if roll < b.press:
                self.event(index, "alarm")
            elif roll < b.press + b.fall:
                self.event(index, "fall")
            elif roll < b.press + b.fall + b.test:
                self.event(index, "test")
        self.stats.heartbeats += sent
        return sent

    def run(self, duration_s: float | None = None, report_every_s: float = 10.0) -> FleetStats:
        end = None if duration_s is None else time.monotonic() + duration_s
        next_report = time.monotonic() + report_every_s
        while not self._stop.is_set() and (end is None or time.monotonic() < end):
            now = time.monotonic()
            self.step(now)
            if now >= next_report:
                log.info("simulator: %d heartbeats, events %s, %d drop-offs",
                         self.stats.heartbeats, self.stats.events, self.stats.drop_offs)
                next_report = now + report_every_s
            time.sleep(0.02)
        return self.stats

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()
            client.loop_stop()


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
