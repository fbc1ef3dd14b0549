"""`telecare devices ...` (the bridge, provisioning) and `telecare simulate devices`."""

from __future__ import annotations

import logging
import secrets
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click

from devices.bridge import Bridge
from devices.broker import BrokerError, Mosquitto, add_password
from devices.connection import BrokerAddress
from devices.protocol import SERIAL
from devices.simulator import Behaviour, Fleet, ensure_devices
from telecare import audit, beats
from telecare.actor import Actor
from telecare.commands.liveness import beating, bridge_probe, quiet_allowed
from telecare.commands.startup import start_logging
from telecare.commands.waiting import wait_for_stop
from telecare.db import session_scope
from telecare.enrolment import devices as enrollee_devices
from telecare.errors import ValidationFailed
from telecare.models import Device, DeviceKind, Enrollee
from telecare.runtime import Runtime

log = logging.getLogger(__name__)


@click.group("devices")
def devices_group() -> None:
    """Alarm devices: the MQTT bridge and device credentials."""


@contextmanager
def broker_address(runtime: Runtime):
    """The configured broker, or an embedded Mosquitto started for as long as we run."""
    settings = runtime.settings
    if settings.mqtt.url != "embedded":
        yield BrokerAddress.from_url(settings.mqtt.url)
        return
    broker = Mosquitto(settings.data_dir / "mosquitto")
    try:
        broker.start()
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"embedded Mosquitto on {broker.url} (files in {broker.folder})")
    try:
        yield BrokerAddress.from_url(broker.url)
    finally:
        broker.stop()


def embedded_address(runtime: Runtime) -> BrokerAddress:
    """The address of a running embedded broker (another `telecare` process started it)."""
    settings = runtime.settings
    if settings.mqtt.url != "embedded":
        return BrokerAddress.from_url(settings.mqtt.url)
    port_file = settings.data_dir / "mosquitto" / "port"
    if not port_file.exists():
        raise click.ClickException("no embedded broker is running: start `telecare devices "
                                   "bridge` first, or set TELECARE_MQTT_URL")
    return BrokerAddress("127.0.0.1", int(port_file.read_text().strip()))


@contextmanager
def bridge_running(runtime: Runtime) -> Iterator[Bridge]:
    """The bridge (and, if embedded, its Mosquitto) for as long as the block runs.

    Leaving the block is the bridge's graceful stop: its event worker finishes and commits
    the batch it holds and acknowledges only that; what paho received after is never
    acknowledged, and the broker redelivers it, with anything queued meanwhile, to the next
    bridge on the same persistent session (the disconnect keeps the session and its
    subscriptions: unsubscribing would drop both).
    """
    with broker_address(runtime) as address:
        running = Bridge(runtime, address).start()
        click.echo(f"bridge: running against {address.host}:{address.port}")
        try:
            yield running
        finally:
            log.info("bridge: stopping: finishing the batch in hand; the rest is redelivered")
            running.stop()
            log.info("bridge: stopped")


@devices_group.command()
@click.pass_obj
def bridge(runtime: Runtime) -> None:
    """Run the MQTT bridge and the heartbeat watchdog until SIGTERM or Ctrl-C."""
    start_logging(runtime)
    with beating(runtime) as beat, bridge_running(runtime) as running:
        beat.add(beats.BRIDGE, bridge_probe(running, quiet_allowed(runtime)))
        wait_for_stop()


@devices_group.command()
@click.argument("serial")
@click.option("--kind", type=click.Choice([k.value for k in DeviceKind]),
              default=DeviceKind.PENDANT.value, show_default=True)
@click.option("--period", "period_s", type=click.IntRange(10, 86400), default=60,
              show_default=True, help="Heartbeat period in seconds.")
@click.option("--password-file", type=click.Path(path_type=Path), default=None,
              help="Mosquitto password file (default: mqtt.password_file).")
@click.option("--enrollee", "enrollee_id", type=int, default=None,
              help="Give it to this enrollee (record id) at once; otherwise it stays in stock.")
@click.pass_obj
def provision(runtime: Runtime, serial: str, kind: str, period_s: int,
              password_file: Path | None, enrollee_id: int | None) -> None:
    """Register a device (in stock) and create its broker credentials; prints the password."""
    if not SERIAL.match(serial):
        raise click.ClickException(
            f"{serial!r}: a serial is 1-64 letters, digits, '.', '_' or '-'")
    settings = runtime.settings
    password_file = password_file or Path(
        settings.mqtt.password_file or settings.data_dir / "mosquitto" / "passwd")
    password = secrets.token_urlsafe(18)
    with session_scope(runtime.sessions) as session:
        device = session.query(Device).filter_by(serial=serial).one_or_none()
        now = runtime.clock.now()
        if device is None:
            device = Device(serial=serial, kind=DeviceKind(kind), heartbeat_period_s=period_s,
                            created_at=now)
            session.add(device)
            session.flush()
        try:
            add_password(password_file, serial, password)
        except BrokerError as exc:
            raise click.ClickException(str(exc)) from None
        audit.record(session, Actor.cli(), "device.provisioned", "device", device.id, now,
                     serial=serial)
        if enrollee_id is not None:
            _give(session, serial, enrollee_id, now)
    click.echo(f"device {serial} provisioned; MQTT username {serial}")
    if enrollee_id is not None:
        click.echo(f"given to enrollee {enrollee_id}")
    click.echo(f"password (shown once, write it into the device): {password}")
    click.echo(f"password file: {password_file} (Mosquitto reloads it on SIGHUP)")


@devices_group.command()
@click.argument("serial")
@click.argument("enrollee_id", type=int)
@click.pass_obj
def assign(runtime: Runtime, serial: str, enrollee_id: int) -> None:
    """Give a provisioned device to an enrollee (by record id): their presses then reach the
    operators with their card, contacts and ladder."""
    with session_scope(runtime.sessions) as session:
        _give(session, serial, enrollee_id, runtime.clock.now())
    click.echo(f"device {serial} given to enrollee {enrollee_id}")


def _give(session, serial: str, enrollee_id: int, now) -> None:
    enrollee = session.get(Enrollee, enrollee_id)
    if enrollee is None:
        raise click.ClickException(f"enrollee {enrollee_id}: no such record")
    try:
        enrollee_devices.assign(session, enrollee, serial, Actor.cli(), now)
    except ValidationFailed as failed:
        raise click.ClickException("; ".join(str(e) for e in failed.errors)) from None


@click.group("simulate")
def simulate_group() -> None:
    """Simulated fleets for demos and benchmarks."""


@simulate_group.command("devices")
@click.option("--count", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@click.option("--period", "period_s", type=click.IntRange(1, 3600), default=60,
              show_default=True, help="Heartbeat period of every simulated device, seconds.")
@click.option("--connections", type=click.IntRange(1, 64), default=4, show_default=True,
              help="MQTT connections the fleet is multiplexed over.")
@click.option("--duration", type=float, default=None, help="Seconds to run (default: until "
              "Ctrl-C).")
@click.option("--seed", type=int, default=2026, show_default=True)
@click.pass_obj
def simulate_devices(runtime: Runtime, count: int, period_s: int, connections: int,
                     duration: float | None, seed: int) -> None:
    """Publish a realistic fleet to the broker the bridge listens on (devices SIM-000001...)."""
    start_logging(runtime)
    address = embedded_address(runtime)
    serials = ensure_devices(runtime.sessions, count, period_s, now=runtime.clock.now())
    fleet = Fleet(address, serials, connections=connections,
                  behaviour=Behaviour(period_s=period_s, jitter_s=min(2.0, period_s / 10)),
                  seed=seed)
    click.echo(f"simulating {count} devices on {connections} connection(s) to "
               f"{address.host}:{address.port}, a heartbeat every {period_s}s; Ctrl-C stops")
    signal.signal(signal.SIGTERM, lambda *_: fleet.stop())
    try:
        stats = fleet.run(duration)
    except KeyboardInterrupt:
        stats = fleet.stats
    finally:
        fleet.close()
    click.echo(f"sent {stats.heartbeats} heartbeats, events {stats.events}, "
               f"{stats.drop_offs} drop-offs")


@contextmanager
def devices_running(runtime: Runtime):
    """The bridge (and, if embedded, its Mosquitto) for as long as the block runs.

    For `telecare demo`: without the mosquitto binary the demo still runs, without devices.
    """
    stack = ExitStack()
    running = None
    try:
        address = stack.enter_context(broker_address(runtime))
        running = Bridge(runtime, address).start()
        stack.callback(running.stop)
        click.echo(f"  devices: bridge on {address.host}:{address.port}; try "
                   "`telecare simulate devices --count 100` in another terminal")
    except click.ClickException as exc:
        stack.close()
        click.echo(f"  devices: not started ({exc.message})", err=True)
    with stack:
        yield running
