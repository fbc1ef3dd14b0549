"""The device side under load, in one run: ingest, alarm latency, an alarm storm, the watchdog.

    .venv/bin/python bench/devices_bench.py            # fresh SQLite file and private Mosquitto
    .venv/bin/python bench/devices_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Everything runs on 127.0.0.1; load generators are separate processes (bench/devices_load.py).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# Run as a script: bench/ is on sys.path already (devices_load); the repository is added.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import devices_load as load  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from devices.bridge import Bridge  # noqa: E402
from devices.broker import Mosquitto  # noqa: E402
from devices.connection import BrokerAddress, make_client  # noqa: E402
from devices.protocol import ROOT, topic  # noqa: E402
from devices.simulator import ensure_devices  # noqa: E402
from telecare.alarms import alarm_opened  # noqa: E402
from telecare.migrate import upgrade  # noqa: E402
from telecare.models import Alarm, Device, DeviceEvent, DeviceState  # noqa: E402
from telecare.runtime import Runtime  # noqa: E402
from telecare.settings import (  # noqa: E402
    DatabaseSettings,
    DevicesSettings,
    MqttSettings,
    Settings,
)

SPAWN = multiprocessing.get_context("spawn")


def connect_direct(url: str, name: str) -> mqtt.Client:
    """An MQTT 3.1.1 client with no network thread: publish() writes to the socket at once.

    With a network thread, each publish costs a write to wake it and a switch to it.
    """
    address = BrokerAddress.from_url(url)
    client = make_client(address, f"{name}-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311)
    client.connect(address.host, address.port, keepalive=60)
    deadline = time.monotonic() + 10
    while not client.is_connected():
        if time.monotonic() > deadline or client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
            raise SystemExit(f"{name}: the broker did not accept the connection")
        time.sleep(0.001)
    return client


def service(client: mqtt.Client) -> None:
    """What a network thread would do: read acknowledgements, write leftovers, keep alive."""
    for rc in (client.loop_read(), client.loop_write(), client.loop_misc()):
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise SystemExit(f"lost the broker: {mqtt.error_string(rc)}")


def heartbeat_load(url: str, serials: list[str], duration_s: float, results) -> None:
    """Each serial's heartbeat once a second for `duration_s`, evenly spread (QoS 0).

    What the bridge receives is what a fleet sends (devices/simulator.py): one heartbeat per
    device per second, {"ts": now, "battery": n}. Payloads built once a second rather than per
    message, and written with no network thread to wake, it takes about 12 us of CPU a
    heartbeat where the simulator takes 45-50 (a quarter of a core at 5,000/s): on a 2-core
    machine that is CPU taken from the bridge being measured.
    """
    client = connect_direct(url, "bench-load")
    topics = [topic(s, "heartbeat") for s in serials]
    batteries = [40 + n % 61 for n in range(len(serials))]
    rate = len(serials)  # a heartbeat a second each
    start = time.monotonic()
    sent, second, bodies = 0, None, {}
    while (now := time.monotonic()) < start + duration_s:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if stamp != second:
            second = stamp
            bodies = {b: json.dumps({"ts": stamp, "battery": b}).encode()
                      for b in set(batteries)}
        due = int((now - start) * rate)
        while sent < due:
            n = sent % rate
            client.publish(topics[n], bodies[batteries[n]], qos=0)
            sent += 1
        service(client)
        time.sleep(0.005)
    service(client)
    client.disconnect()
    results.put(sent)


def phase_database(url: str | None, folder: Path, phase: str) -> str:
    """Each part on a fresh SQLite file, so none pays for another's leftovers (a big WAL)."""
    if url:
        return url
    fresh = f"sqlite:///{folder / (phase + '.db')}"
    upgrade(fresh)
    return fresh


def retire(runtime: Runtime, prefix: str) -> None:
    """Take a part's devices out of the watchdog's sight, so they do not go offline later."""
    with runtime.sessions() as session:
        session.execute(update(Device).where(Device.serial.startswith(prefix))
                        .values(state=DeviceState.RETIRED, offline_after=None))
        session.commit()


def runtime_for(url: str, broker: Mosquitto, data_dir: Path, grace_s: int = 30) -> Runtime:
    return Runtime(Settings(
        data_dir=data_dir, database=DatabaseSettings(url=url),
        mqtt=MqttSettings(url=broker.url, client_id=f"bench-bridge-{uuid.uuid4().hex[:6]}"),
        devices=DevicesSettings(grace_s=grace_s, heartbeat_flush_ms=1000,
                                watchdog_interval_ms=500)))


def start_bridge(runtime: Runtime, broker: Mosquitto) -> Bridge:
    bridge = Bridge(runtime, BrokerAddress.from_url(broker.url)).start()
    if not bridge.wait_connected(10):
        raise SystemExit("the bridge did not connect")
    return bridge


def count_while(counter, total: int, idle_s: float = 3.0) -> tuple[int, float]:
    """Poll a counter until it reaches total or stops moving; (count, seconds first→last)."""
    first = last = None
    seen = counter()
    idle_since = time.monotonic()
    while True:
        now, value = time.monotonic(), counter()
        if value != seen:
            first = first or now
            last, seen, idle_since = now, value, now
        if value >= total or (first and now - idle_since > idle_s) or now - idle_since > 30:
            return value, (last - first) if first and last and last > first else float("nan")
        time.sleep(0.005)


def bench_ingest(url, broker, data_dir, total: int) -> dict:
    runtime = runtime_for(url, broker, data_dir)
    serials = ensure_devices(runtime.sessions, 5000, period_s=60, prefix="ING-")
    # The baseline: a bare paho subscriber counting the same stream, on the same protocol
    # (MQTT 3.1.1) as the bridge's heartbeat connection.
    bare = make_client(BrokerAddress.from_url(broker.url), f"bench-bare-{uuid.uuid4().hex[:6]}",
                       protocol=mqtt.MQTTv311)
    received = [0]

    def on_message(_c, _u, _m):
        received[0] += 1

    bare.on_message = on_message
    bare.connect("127.0.0.1", broker.port)
    bare.loop_start()
    bare.subscribe(f"{ROOT}+/heartbeat", qos=0)
    time.sleep(0.5)
    done = SPAWN.Event()
    publisher = SPAWN.Process(target=load.heartbeat_burst, args=(broker.url, serials, total, done))
    publisher.start()
    bare_count, bare_s = count_while(lambda: received[0], total)
    publisher.join()
    bare.disconnect()
    bare.loop_stop()

    bridge = start_bridge(runtime, broker)
    time.sleep(0.5)
    publisher = SPAWN.Process(target=load.heartbeat_burst, args=(broker.url, serials, total, done))
    publisher.start()
    bridge_count, bridge_s = count_while(lambda: bridge.heartbeats_received, total)
    publisher.join()
    time.sleep(1.5)  # one flush
    with runtime.sessions() as session:
        written = session.scalar(select(func.count()).select_from(Device).where(
            Device.serial.startswith("ING-"), Device.last_seen_at.is_not(None)))
    bridge.stop()
    retire(runtime, "ING-")
    return {"bare_rate": bare_count / bare_s, "bare_count": bare_count,
            "bridge_rate": bridge_count / bridge_s, "bridge_count": bridge_count,
            "flushed_devices": written}


def bench_latency(url, broker, data_dir, presses: int, rate: float, load_rate: int) -> dict:
    runtime = runtime_for(url, broker, data_dir)
    # load_rate devices, each with a heartbeat a second.
    load_serials = ensure_devices(runtime.sessions, load_rate, period_s=1, prefix="LOAD-")
    pressers = ensure_devices(runtime.sessions, presses, period_s=60, prefix="LAT-")
    bridge = start_bridge(runtime, broker)
    committed: dict[int, float] = {}

    def on_opened(alarm_id):
        committed[alarm_id] = time.perf_counter()

    alarm_opened.connect(on_opened, weak=False)
    duration = presses / rate + 6
    results = SPAWN.Queue()
    fleet = SPAWN.Process(target=heartbeat_load,
                          args=(broker.url, load_serials, duration, results))
    fleet.start()
    time.sleep(3)  # the load's start-up: 5,000 heartbeats a second from here on
    beats_before, beats_at = bridge.heartbeats_received, time.monotonic()
    client = make_client(BrokerAddress.from_url(broker.url), f"bench-press-{uuid.uuid4().hex}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    published: dict[str, float] = {}
    for serial in pressers:
        published[serial] = time.perf_counter()
        client.publish(topic(serial, "events"), b'{"seq": 1, "type": "alarm"}', qos=1)
        time.sleep(1 / rate)
    deadline = time.monotonic() + 15
    while len(committed) < presses and time.monotonic() < deadline:
        time.sleep(0.05)
    hb_rate = (bridge.heartbeats_received - beats_before) / (time.monotonic() - beats_at)
    lags = sorted(lag * 1000 for lag in bridge.stats.commit_lag)
    results.get(timeout=60)
    fleet.join()
    client.disconnect()
    client.loop_stop()
    alarm_opened.disconnect(on_opened)
    with runtime.sessions() as session:
        rows = session.execute(select(Alarm.id, Device.serial).join(Device, Alarm.device_id ==
                               Device.id).where(Device.serial.startswith("LAT-"))).all()
    bridge.stop()
    retire(runtime, "LOAD-")
    latencies = sorted((committed[a] - published[s]) * 1000 for a, s in rows if a in committed)
    return {"count": len(latencies), "p50": _pct(latencies, 50), "p99": _pct(latencies, 99),
            "max": latencies[-1] if latencies else float("nan"), "heartbeat_rate": hb_rate,
            "lag_p50": _pct(lags, 50), "lag_p99": _pct(lags, 99)}


def bench_storm(url, broker, data_dir, devices: int, spread_s: float, repeats: int) -> dict:
    runtime = runtime_for(url, broker, data_dir)
    serials = ensure_devices(runtime.sessions, devices, period_s=60, prefix="STORM-")
    bridge = start_bridge(runtime, broker)
    opened = [0, 0.0]

    def on_opened(_alarm_id):
        opened[0] += 1
        opened[1] = time.monotonic()

    alarm_opened.connect(on_opened, weak=False)
    done = SPAWN.Event()
    storm = SPAWN.Process(target=load.alarm_storm,
                          args=(broker.url, serials, spread_s, repeats, done))
    start = time.monotonic()
    storm.start()
    deadline = start + spread_s + 120
    while opened[0] < devices and time.monotonic() < deadline:
        time.sleep(0.05)
    storm.join()
    time.sleep(1.0)  # let the repeats land
    alarm_opened.disconnect(on_opened)
    with runtime.sessions() as session:
        storm_devices = select(Device.id).where(Device.serial.startswith("STORM-"))
        alarms = session.scalar(select(func.count()).select_from(Alarm)
                                .where(Alarm.device_id.in_(storm_devices)))
        twice = session.scalar(select(func.count()).select_from(
            select(Alarm.device_id).where(Alarm.device_id.in_(storm_devices))
            .group_by(Alarm.device_id).having(func.count() > 1).subquery()))
        events = session.scalar(select(func.count()).select_from(DeviceEvent)
                                .where(DeviceEvent.device_id.in_(storm_devices)))
    stats = bridge.stats
    bridge.stop()
    retire(runtime, "STORM-")
    return {"alarms": alarms, "twice": twice, "events": events, "duplicates": stats.duplicates,
            "drain_s": opened[1] - start if opened[0] else float("nan"), "spread_s": spread_s}


def bench_offline(url, broker, data_dir, devices: int, period_s: int, grace_s: int,
                  silence: int) -> dict:
    runtime = runtime_for(url, broker, data_dir, grace_s=grace_s)
    made = time.monotonic()
    serials = ensure_devices(runtime.sessions, devices, period_s=period_s, prefix="FLEET-")
    setup_s = time.monotonic() - made
    bridge = start_bridge(runtime, broker)
    # One period for every device to be seen; then the chosen ones fall silent over `spread`
    # seconds; then long enough for the last of them to be overdue, plus the 2 s allowed.
    silence_after, spread = period_s + 2, 5
    duration = silence_after + spread + period_s + grace_s + 3
    results = SPAWN.Queue()
    fleet = SPAWN.Process(target=load.steady_fleet, args=(
        broker.url, serials, float(period_s), duration, silence, float(silence_after),
        float(spread), results))
    fleet.start()
    last_beats, sent = results.get(timeout=duration + 60)
    fleet.join()
    received = bridge.heartbeats_received
    time.sleep(0.5)  # the last sweep; the others are not overdue before period + grace
    with runtime.sessions() as session:
        rows = session.execute(select(Device.serial, Device.offline_since).where(
            Device.serial.startswith("FLEET-"), Device.offline_since.is_not(None))).all()
    bridge.stop()
    detected = {s: t.timestamp() for s, t in rows}
    delays = sorted(detected[s] - last_beats[s] for s in last_beats if s in detected)
    return {"devices": devices, "silenced": silence, "detected": len(delays),
            "false_offline": len(set(detected) - set(last_beats)), "p50": _pct(delays, 50),
            "p99": _pct(delays, 99), "max": delays[-1] if delays else float("nan"),
            "target": period_s + grace_s + 2, "period": period_s, "grace": grace_s,
            "heartbeats": sent, "received": received, "setup_s": setup_s}


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp folder")
    parser.add_argument("--heartbeats", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--load-rate", type=int, default=5000,
                        help="heartbeats/s flowing while alarm latency is measured")
    parser.add_argument("--storm", type=int, default=10_000)
    parser.add_argument("--fleet", type=int, default=100_000)
    parser.add_argument("--period", type=int, default=30,
                        help="heartbeat period of the 100,000 devices (production: 60)")
    parser.add_argument("--grace", type=int, default=10)
    parser.add_argument("--silence", type=int, default=1000)
    parser.add_argument("--only", choices=["ingest", "latency", "storm", "offline"])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="telecare-bench-devices-"))
    if args.database_url:
        upgrade(args.database_url)
    print(f"database {(args.database_url or 'a fresh SQLite file per part').split('@')[-1]}; "
          f"folder {folder}", flush=True)
    ok = True
    with Mosquitto(folder / "mosquitto", persistence=False) as broker:
        if args.only in (None, "ingest"):
            url = phase_database(args.database_url, folder, "ingest")
            r = bench_ingest(url, broker, folder, args.heartbeats)
            ratio = r["bridge_rate"] / r["bare_rate"]
            ok &= ratio >= 0.5
            print(f"heartbeat ingest: bridge {r['bridge_rate']:,.0f} msg/s "
                  f"({r['bridge_count']:,} received), bare paho subscriber "
                  f"{r['bare_rate']:,.0f} msg/s ({r['bare_count']:,}); ratio {ratio:.2f} "
                  f"(target >= 0.5); {r['flushed_devices']:,} devices' last-seen written",
                  flush=True)
        if args.only in (None, "latency"):
            url = phase_database(args.database_url, folder, "latency")
            r = bench_latency(url, broker, folder, args.presses, rate=20,
                              load_rate=args.load_rate)
            ok &= r["p99"] < 50 and r["count"] == args.presses
            print(f"alarm latency, publish to commit, under {r['heartbeat_rate']:,.0f} "
                  f"heartbeats/s: p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max "
                  f"{r['max']:.1f} ms over {r['count']} alarms (target p99 < 50 ms); of which "
                  f"receipt to commit in the bridge p50 {r['lag_p50']:.1f} ms, p99 "
                  f"{r['lag_p99']:.1f} ms", flush=True)
        if args.only in (None, "storm"):
            url = phase_database(args.database_url, folder, "storm")
            r = bench_storm(url, broker, folder, args.storm, spread_s=10, repeats=args.storm // 20)
            ok &= r["alarms"] == args.storm and r["twice"] == 0
            print(f"alarm storm: {args.storm:,} devices pressing within {r['spread_s']:.0f} s "
                  f"(+{args.storm // 20:,} redelivered): {r['alarms']:,} alarms committed, "
                  f"{r['twice']} twice, {r['duplicates']:,} repeats recognised; drained "
                  f"{r['drain_s']:.1f} s after the first press", flush=True)
        if args.only in (None, "offline"):
            url = phase_database(args.database_url, folder, "offline")
            r = bench_offline(url, broker, folder, args.fleet, args.period, args.grace,
                              args.silence)
            ok &= r["detected"] == r["silenced"] and r["max"] <= r["target"] \
                and r["false_offline"] == 0
            print(f"offline detection, {r['devices']:,} devices (period {r['period']} s, grace "
                  f"{r['grace']} s, {r['heartbeats']:,} heartbeats sent, {r['received']:,} "
                  f"received): {r['detected']:,}/"
                  f"{r['silenced']:,} silent devices detected, p50 {r['p50']:.1f} s, p99 "
                  f"{r['p99']:.1f} s, max {r['max']:.1f} s after their last heartbeat (target "
                  f"<= {r['target']} s); {r['false_offline']} online devices marked offline",
                  flush=True)
    print("all targets met" if ok else "SOME TARGETS MISSED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
