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
        """SIGTERM, as systemd and docker stop send it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"{self.role} did not stop within {timeout}s after SIGTERM:\n"
                                 + self.output()[-4000:]) from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def serve_env(data_dir: Path, database_url: str, broker_url: str, **more: str) -> dict:
    """The environment of a serve process on its own data folder, database and broker."""
    return {"TELECARE_DATA_DIR": str(data_dir), "TELECARE_DATABASE_URL": database_url,
            "TELECARE_MQTT_URL": broker_url, **more}
