"""The bridge killed with SIGKILL between receipt and commit, or between commit and ack."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from telecare.models import Alarm
from tests.devices.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


class BridgeProcess:
    """`telecare devices bridge` in its own process, its output kept to find the fault line."""

    def __init__(self, settings, log: Path, fault: str = ""):
        env = {**os.environ, "TELECARE_DATA_DIR": str(settings.data_dir),
               "TELECARE_DATABASE_URL": settings.database.url,
               "TELECARE_MQTT_URL": settings.mqtt.url,
               "TELECARE_MQTT_CLIENT_ID": settings.mqtt.client_id,
               "TELECARE_DEVICES_FAULT": fault, "PYTHONUNBUFFERED": "1",
               "TELECARE_DEVICES_HEARTBEAT_FLUSH_MS": "100"}
        self.log = log
        self.out = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from telecare.cli import main; main()", "devices", "bridge"],
            cwd=ROOT, env=env, stdout=self.out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_line(self, text: str, timeout: float = 15.0) -> None:
        wait_for(lambda: text in self.output() or self.process.poll() is not None, timeout)
        assert text in self.output(), self.output()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(5)
        self.out.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.out.close()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def alarms_of(sessions, device_id):
    with sessions() as session:
        return session.scalars(select(Alarm).where(Alarm.device_id == device_id)).all()


@pytest.mark.parametrize("fault", ["stall-before-commit", "stall-after-commit"])
def test_it_redelivers_an_alarm_to_a_restarted_bridge_and_raises_it_once(
        fault, bridge_settings, tmp_path, make_device, connect_device, committed_sessions):
    device = make_device()
    log = tmp_path / "bridge.log"
    first = BridgeProcess(bridge_settings, log, fault=fault)
    try:
        first.wait_for_line("bridge: connected")
        pendant = connect_device(device.serial)
        pendant.event(1, "alarm")
        first.wait_for_line("bridge: stalled " + fault.removeprefix("stall-").replace("-", " "))
    finally:
        first.kill()
    # Its heartbeat process notices and goes too, leaving the client id to the next bridge.
    heartbeats_pid = int(re.search(r"heartbeats in process (\d+)", first.output()).group(1))
    wait_for(lambda: not _running(heartbeats_pid), timeout=10)
    committed = alarms_of(committed_sessions, device.id)
    assert len(committed) == (0 if fault == "stall-before-commit" else 1)
    assert pendant.commands == []  # never answered before the commit, nor acknowledged

    second = BridgeProcess(bridge_settings, log)
    try:
        second.wait_for_line("bridge: connected (session resumed)")
        [alarm] = wait_for(lambda: alarms_of(committed_sessions, device.id))
        wait_for(lambda: pendant.commands)
        assert pendant.commands[0] == {"cmd": "alarm_received", "alarm": alarm.id}
        time.sleep(0.3)  # anything else redelivered would have landed by now
        assert len(alarms_of(committed_sessions, device.id)) == 1
    finally:
        second.stop()
