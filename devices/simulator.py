"""A simulated fleet: heartbeats with jitter, occasional presses, tests, low batteries, dropouts.

Many devices share a few MQTT connections (a device's topics are in the message, not the
connection), so 100,000 devices fit on one machine. That needs a broker that lets one client
write many devices' topics: the embedded one, or a test user outside the %u ACL.

Besides chance, the fleet takes orders from other threads (`press`, `lose`): the demo's
people press their pendant when a weekly call asks them to, and its script loses one device
for good. Everything is still published from the fleet's own loop, so each device's `seq`
grows by exactly one per event.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import math
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
    nearly_flat: float = 0.0  # share of devices switched on with a battery just above 20%


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
    lost: set[str] = field(default_factory=set)  # devices gone for good (`Fleet.lose`)


# What another thread can ask a device to do: one of the protocol's events, or go for good.
ORDERS = frozenset({"alarm", "fall", "test", "lose"})


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
        self.devices = [SimDevice(s, base, self._battery()) for s in serials]
        self._index = {device.serial: i for i, device in enumerate(self.devices)}
        self.stats = FleetStats()
        # Orders from other threads, by when they are due: (monotonic, order, index, what).
        self._orders: list[tuple[float, int, int, str]] = []
        self._orders_lock = threading.Lock()
        self._order_numbers = itertools.count()
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

    def _battery(self) -> int:
        # (No draw when no device starts flat: a seed gives the fleet it always gave.)
        if self.behaviour.nearly_flat and self.rng.random() < self.behaviour.nearly_flat:
            return self.rng.randint(21, 23)
        return self.rng.randint(40, 100)

    def _client(self, index: int):
        return self.clients[index % len(self.clients)]

    # -- orders from other threads -------------------------------------------------------------

    def press(self, serial: str, kind: str = "alarm", after_s: float = 0.0) -> bool:
        """Have the device send `kind` (alarm, fall, test) in `after_s` seconds; any thread.

        False if the fleet has no such device. A device silent by then sends nothing: out of
        range, its press is lost, as a real one's would be.
        """
        return self._order(serial, kind, after_s)

    def lose(self, serial: str, after_s: float = 0.0) -> bool:
        """The device goes silent for good in `after_s` seconds, saying "offline" first (its
        Last Will, as when its battery dies); any thread."""
        return self._order(serial, "lose", after_s)

    def _order(self, serial: str, what: str, after_s: float) -> bool:
        if what not in ORDERS:
            raise ValueError(f"{what!r}: a device can be told {', '.join(sorted(ORDERS))}")
        index = self._index.get(serial)
        if index is None:
            return False
        with self._orders_lock:
            heapq.heappush(self._orders, (time.monotonic() + max(0.0, after_s),
                                          next(self._order_numbers), index, what))
        return True

    def _carry_out_orders(self, now: float) -> None:
        while True:
            with self._orders_lock:
                if not self._orders or self._orders[0][0] > now:
                    return
                _, _, index, what = heapq.heappop(self._orders)
            device = self.devices[index]
            if device.silent_until > now:
                continue
            if what == "lose":
                device.silent_until = math.inf
                self.stats.lost.add(device.serial)
                self.publish(index, "status", "offline", qos=1)
            else:
                self.event(index, what)

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
        self._carry_out_orders(now)
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
