"""`telecare serve` as a process of its own, for the tests that stop it as systemd would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wait_until(predicate, timeout: float = 20.0, every: float = 0.1, what: str = ""):
    """Poll until predicate() is truthy and return it; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout}s: {what or predicate}")


class Serve:
    """One `telecare serve --role ROLE`, its stdout and stderr kept in files of their own."""

    def __init__(self, role: str, folder: Path, env: dict[str, str], name: str = ""):
        name = name or role
        self.role = role
        self.terminated = False
        self.stdout_path = folder / f"{name}.out"
        self.stderr_path = folder / f"{name}.err"
        environ = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from telecare.cli import main; main()", "serve",
                 "--role", role], cwd=ROOT, env=environ, stdout=out, stderr=err)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return (self.stdout_path.read_text(errors="replace")
                + self.stderr_path.read_text(errors="replace"))

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        wait_until(lambda: text in self.output() or self.process.poll() is not None, timeout,
                   what=f"{text!r} from {self.role}")
        assert text in self.output(), self.output()[-4000:]

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM (once), as systemd and docker stop send it; the exit status."""
        if self.process.poll() is None and not self.terminated:
            self.sigterm()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"{self.role} did not stop within {timeout}s after SIGTERM:\n"
                                 + self.output()[-4000:]) from None

    def sigterm(self) -> None:
        self.terminated = True
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def serve_env(data_dir: Path, database_url: str, broker_url: str, **more: str) -> dict:
    """The environment of a serve process on its own data folder, database and broker."""
    return {"TELECARE_DATA_DIR": str(data_dir), "TELECARE_DATABASE_URL": database_url,
            "TELECARE_MQTT_URL": broker_url, **more}


class Storm:
    """Many devices each pressing their button once (QoS 1), over a few MQTT connections.

    Mosquitto here lets anyone publish on any topic, so a handful of clients speak for
    thousands of devices: each message is on its own device's topic with its own seq.
    """

    def __init__(self, broker_url: str, serials: list[str], connections: int = 4):
        from devices.connection import BrokerAddress, make_client

        address = BrokerAddress.from_url(broker_url)
        self.serials = serials
        self.clients = []
        for n in range(connections):
            client = make_client(address, f"storm-{os.getpid()}-{n}")
            client.connect(address.host, address.port)
            client.loop_start()
            self.clients.append(client)
        self.sent: list = []

    def press(self, serials: list[str], seq: int = 1) -> None:
        import json

        from devices.protocol import topic

        for index, serial in enumerate(serials):
            payload = json.dumps({"seq": seq, "type": "alarm", "ts": "2026-11-30T08:15:00Z"})
            client = self.clients[index % len(self.clients)]
            self.sent.append(client.publish(topic(serial, "events"), payload, qos=1))

    def run(self, seconds: float, midway=None, steps: int = 20) -> None:
        """Every device presses once, spread over `seconds`; `midway()` is called halfway."""
        chunk = -(-len(self.serials) // steps)
        for step in range(steps):
            started = time.monotonic()
            self.press(self.serials[step * chunk:(step + 1) * chunk])
            if step == steps // 2 - 1 and midway is not None:
                midway()
            time.sleep(max(0.0, seconds / steps - (time.monotonic() - started)))

    def wait_acknowledged(self, timeout: float = 30.0) -> None:
        """Every press accepted by the broker (its PUBACK): from here the broker owns it."""
        deadline = time.monotonic() + timeout
        for info in self.sent:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert info.is_published(), "the broker acknowledged every press"

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()
            client.loop_stop()


def make_devices(sessions, count: int, prefix: str, enrollee_ids: list[int] | None = None):
    """`count` active pendants (serials PREFIX-000001...), assigned in turn to enrollees."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from telecare.models import Device, DeviceKind, DeviceState

    now = datetime.now(UTC)
    serials = [f"{prefix}-{n:06d}" for n in range(1, count + 1)]
    with sessions() as session:
        session.execute(insert(Device), [
            {"serial": serial, "kind": DeviceKind.PENDANT, "state": DeviceState.ACTIVE,
             "heartbeat_period_s": 3600, "created_at": now,
             "enrollee_id": enrollee_ids[i] if enrollee_ids else None}
            for i, serial in enumerate(serials)])
        session.commit()
    return serials
