"""Load generators for bench/devices_bench.py, each run in its own process (no shared GIL)."""

from __future__ import annotations

import json
import random
import time

from devices.connection import BrokerAddress, make_client
from devices.protocol import topic
from devices.simulator import Behaviour, Fleet


def _clients(url: str, count: int, name: str):
    address = BrokerAddress.from_url(url)
    clients = []
    for n in range(count):
        client = make_client(address, f"bench-{name}-{n}-{time.monotonic_ns()}")
        client.max_inflight_messages_set(20_000)
        client.connect(address.host, address.port, keepalive=60)
        client.loop_start()
        clients.append(client)
    return clients


def _close(clients) -> None:
    for client in clients:
        client.disconnect()
        client.loop_stop()


def heartbeat_burst(url: str, serials: list[str], total: int, done) -> None:
    """Publish `total` heartbeats (QoS 0) as fast as one process can, round robin over serials."""
    clients = _clients(url, 2, "burst")
    payloads = [json.dumps({"ts": "2026-11-28T22:00:00Z", "battery": 50 + n % 50}).encode()
                for n in range(100)]
    topics = [topic(s, "heartbeat") for s in serials]
    for n in range(total):
        clients[n % 2].publish(topics[n % len(topics)], payloads[n % 100], qos=0)
    time.sleep(1.0)  # let paho's network threads drain their buffers before disconnecting
    _close(clients)
    done.set()


def steady_fleet(url: str, serials: list[str], period_s: float, duration_s: float,
                 silence: int, silence_after_s: float, spread_s: float, results) -> None:
    """Heartbeats from a fleet for `duration_s`; `silence` devices stop at random moments.

    Puts {serial: wall-clock time of its last heartbeat} for the silenced devices, and the
    number of heartbeats sent, on `results`.
    """
    fleet = Fleet(BrokerAddress.from_url(url), serials, connections=3, seed=7,
                  behaviour=Behaviour(period_s=period_s, jitter_s=min(1.0, period_s / 20),
                                      press=0, fall=0, test=0, battery_drain=0, drop_off=0))
    rng = random.Random(11)
    chosen = rng.sample(range(len(serials)), silence)
    start = time.monotonic()
    # Each chosen device goes quiet at a random moment of `spread_s` after `silence_after_s`
    # (and so at a random point of its own heartbeat cycle).
    quiet_at = sorted((start + silence_after_s + rng.uniform(0, spread_s), i) for i in chosen)
    while time.monotonic() < start + duration_s:
        now = time.monotonic()
        while quiet_at and quiet_at[0][0] <= now:
            _, index = quiet_at.pop(0)
            fleet.devices[index].silent_until = float("inf")
        fleet.step(now)
        time.sleep(0.01)
    results.put(({fleet.devices[i].serial: fleet.devices[i].last_beat for i in chosen},
                 fleet.stats.heartbeats))
    fleet.close()


def alarm_storm(url: str, serials: list[str], spread_s: float, repeats: int, done) -> None:
    """Every serial presses once (QoS 1) within `spread_s`; `repeats` of them are sent twice,
    as a device would after a lost acknowledgement."""
    clients = _clients(url, 4, "storm")
    body = json.dumps({"seq": 1, "type": "alarm", "ts": "2026-11-28T22:00:00Z"}).encode()
    start = time.monotonic()
    infos = []
    for n, serial in enumerate(serials):
        due = start + spread_s * n / len(serials)
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        infos.append(clients[n % 4].publish(topic(serial, "events"), body, qos=1))
        if n < repeats:
            infos.append(clients[(n + 1) % 4].publish(topic(serial, "events"), body, qos=1))
    for info in infos:
        info.wait_for_publish(60)
    _close(clients)
    done.set()
