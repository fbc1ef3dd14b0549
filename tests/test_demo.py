"""`telecare demo`, the README's run command: one process tree that shows the service working.

The demo's parts first (its people on the phone, its calls at demo speed), then the command
itself as a process of its own on a free port and a fresh data folder: it serves, alarms
arrive, weekly calls ring, and Ctrl-C or SIGTERM stop every thread and child process, exit 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from devices.broker import free_port
from telecare.actor import Actor
from telecare.commands.demo_calls import FIRST_AFTER, SPACING, bring_forward, demo_speed
from telecare.commands.demo_people import PARTS, City, part_of
from telecare.commands.planned_calls import plan_ahead
from telecare.courtesy.caller import PlannedCaller
from telecare.enrolment.seed import seed_enrollees
from telecare.models import ButtonCheck, PlannedCall, PlannedCallState
from telecare.runtime import Runtime
from telecare.settings import DatabaseSettings
from telecare.telephony.twiml import wording
from telecare.twilio_sim import Behaviour
from tests.courtesy.conftest import LANDLINE, START, calls, live  # noqa: F401 (fixtures)

# -- the demo's people --------------------------------------------------------------------------


def test_each_number_keeps_its_part_and_the_city_has_each_part_in_its_share():
    numbers = [f"+3902{n:08d}" for n in range(4000)]
    assert [part_of(n) for n in numbers[:50]] == [part_of(n) for n in numbers[:50]]
    counts = Counter(part_of(n).who for n in numbers)
    assert abs(sum(part.share for part in PARTS) - 1) < 1e-9
    for part in PARTS:
        assert abs(counts[part.who] / len(numbers) - part.share) < 0.03, (part.who, counts)


def test_a_listening_person_presses_the_pendant_only_when_asked_in_their_language():
    presses: list[tuple[str, float]] = []
    city = City(["it", "en"], lambda number, after_s: presses.append((number, after_s)) or True)
    answering = [n for n in (f"+3902{k:08d}" for k in range(200))
                 if city.person(n).on_hear is not None]
    assert answering, "most people who answer listen"
    person = city.person(answering[0])
    assert person.behaviour == Behaviour.ANSWER and person.keys == ["1"]
    person.on_hear(person, wording("it", "planned_thanks"))
    assert presses == []
    person.on_hear(person, wording("it", "button_request"))
    person.on_hear(person, wording("en", "button_request"))
    assert [number for number, _ in presses] == [person.number] * 2
    assert all(1 <= after_s <= 5 for _, after_s in presses)
    silent = next(n for n in (f"+3902{k:08d}" for k in range(200))
                  if part_of(n).behaviour == Behaviour.NO_ANSWER)
    assert city.person(silent).on_hear is None


def test_a_demo_person_asked_by_the_weekly_call_presses_the_pendant_and_the_check_passes(calls):  # noqa: F811
    maria = calls.enrol()
    pressed: list[str] = []

    def press_pendant(number: str, _after_s: float) -> bool:
        pressed.append(number)
        calls.press_alarm_button_test(maria)  # what the bridge does with the pendant's test
        return True

    city = City(["it", "en"], press_pendant)
    calls.sim.person(LANDLINE, Behaviour.ANSWER, ["1"], on_hear=city.hear)
    planned_id = calls.plan(maria)
    calls.sweep()
    assert pressed == [LANDLINE]
    planned = calls.planned(planned_id)
    assert (planned.state, planned.button_check) == (PlannedCallState.DONE, ButtonCheck.VERIFIED)


def test_the_demos_calling_day_is_the_whole_day_where_the_services_is_not(calls):  # noqa: F811
    maria = calls.enrol()
    night = START.replace(hour=1)  # 02:00 in Milan
    planned_id = calls.plan(maria, at=night)
    calls.clock.at = night
    calls.sim.person(LANDLINE, Behaviour.ANSWER, ["1"])
    assert calls.sweep().placed == []
    calls.caller = PlannedCaller(demo_speed(calls.caller.settings), calls.sessions,
                                 calls.caller.dialer, calls.clock)
    assert calls.sweep().placed == [planned_id]
    assert calls.planned(planned_id).state == PlannedCallState.DONE


# -- the weekly calls at demo speed ----------------------------------------------------------


def test_the_weeks_next_calls_are_brought_forward_and_planning_again_makes_none_twice(
        settings, server_database):
    runtime = Runtime(settings.replace(database=DatabaseSettings(url=server_database)))
    try:
        seed_enrollees(runtime.sessions, 40, Actor.system(), runtime.clock.now(),
                       runtime.settings.enrolment, seed=7, zone=runtime.settings.zone)
        plan_ahead(runtime)
        with runtime.sessions() as session:
            planned = session.scalar(select(func.count()).select_from(PlannedCall))
        before = runtime.clock.now()
        assert bring_forward(runtime, count=10) == 10
        after = runtime.clock.now()
        plan_ahead(runtime)
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(PlannedCall)) == planned
            soon = session.scalars(
                select(PlannedCall.next_attempt_at)
                .where(PlannedCall.next_attempt_at <= after + FIRST_AFTER + 9 * SPACING)
                .where(PlannedCall.next_attempt_at >= before + FIRST_AFTER)
                .order_by(PlannedCall.next_attempt_at)).all()
        assert len(soon) == 10
        assert [b - a for a, b in zip(soon, soon[1:], strict=False)] == [SPACING] * 9
    finally:
        runtime.close()


# -- the command, as a process ---------------------------------------------------------------


def demo_command() -> list[str]:
    """`telecare demo` from this virtualenv, as `make run` starts it."""
    script = Path(sys.executable).with_name("telecare")
    return [str(script), "demo"] if script.exists() else [sys.executable, "-m", "telecare.cli",
                                                          "demo"]


def wait_until(predicate, timeout: float, what: str, process=None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the demo exited ({process.returncode}) while waiting for "
                                 f"{what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.25)


class DemoProcess:
    """`telecare demo` on a free port with a data folder of its own, nothing else configured
    (as on a fresh machine: no TELECARE_ variable of the test run reaches it)."""

    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir, self.port = data_dir, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.outputs: list[Path] = []

    def start(self) -> DemoProcess:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TELECARE_")}
        environ |= {"TELECARE_DATA_DIR": str(self.data_dir),
                    "TELECARE_WEB_PORT": str(self.port)}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.data_dir.parent / f"{self.data_dir.name}-run{len(self.outputs) + 1}.log"
        self.outputs.append(log)
        with log.open("w") as output:
            # A session of its own: the test can signal the whole tree as a terminal's Ctrl-C
            # does, and find every process it left behind.
            self.process = subprocess.Popen(demo_command(), env=environ, stdout=output,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        return self

    @property
    def output(self) -> str:
        return self.outputs[-1].read_text(encoding="utf-8", errors="replace")

    def wait_until_serving(self, timeout: float = 120) -> None:
        def healthy() -> bool:
            try:
                return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, timeout, f"/healthz at {self.url}", self.process)

    def count(self, sql: str) -> int:
        with sqlite3.connect(self.data_dir / "telecare.db", timeout=10) as connection:
            return connection.execute(sql).fetchone()[0]

    def wait_for_count(self, sql: str, at_least: int, timeout: float, what: str) -> int:
        return wait_until(lambda: (n := self.count(sql)) >= at_least and n, timeout, what,
                          self.process)

    def processes(self) -> dict[int, str]:
        """Every process still in the demo's session (its own pid is the session's id)."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getsid(int(entry.name)) == self.process.pid:
                    found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(
                        b"\0", b" ").decode(errors="replace").strip()
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
        return found

    def stop(self, sig: int, *, whole_tree: bool) -> int:
        if whole_tree:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the demo did not stop on {signal.Signals(sig).name}: "
                                 f"{self.output[-3000:]}") from None

    def assert_stopped_cleanly(self, returncode: int) -> None:
        assert returncode == 0, self.output[-3000:]
        assert "Traceback" not in self.output, self.output
        assert "Telecare demo stopped." in self.output
        # Children that notice their parent has gone (multiprocessing's helpers) get a moment.
        wait_until(lambda: not self.processes(), 15, "no process of the demo's to be left")

    def kill(self) -> None:
        """After a failed test: nothing survives it."""
        if self.process is not None:
            for pid in self.processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def demo(tmp_path):
    if sys.platform != "linux":
        pytest.skip("reads /proc to find the demo's child processes")
    running = DemoProcess(tmp_path / "var")
    yield running
    running.kill()


@pytest.mark.own_sqlite
def test_the_demo_serves_alarms_arrive_weekly_calls_ring_and_ctrl_c_stops_everything(demo):
    demo.start().wait_until_serving()
    banner = demo.output
    assert f"Telecare demo: {demo.url}/" in banner
    assert "operator's login: operatore, password telecare-demo" in banner
    assert any("mosquitto" in command for command in demo.processes().values())
    assert demo.count("SELECT count(*) FROM enrollee") == 300
    assert demo.count("SELECT count(*) FROM device WHERE enrollee_id IS NOT NULL "
                      "AND state = 'active'") == 300

    demo.wait_for_count("SELECT count(*) FROM alarm WHERE kind IN ('button', 'fall')", 1, 90,
                        "a pendant's alarm")
    demo.wait_for_count("SELECT count(*) FROM planned_call_log", 3, 90,
                        "weekly calls rung and settled")
    demo.wait_for_count("SELECT count(*) FROM planned_call WHERE button_check = 'verified'", 1,
                        90, "someone pressing their pendant when the weekly call asked")

    # A terminal's Ctrl-C reaches the whole process group, Mosquitto included.
    demo.assert_stopped_cleanly(demo.stop(signal.SIGINT, whole_tree=True))


@pytest.mark.own_sqlite
def test_sigterm_stops_the_demo_and_a_restart_keeps_the_city_it_seeded(demo):
    demo.start().wait_until_serving()
    assert "seeding 300 enrollees" in demo.output
    # A service manager's SIGTERM, to the demo alone: it stops its children itself.
    demo.assert_stopped_cleanly(demo.stop(signal.SIGTERM, whole_tree=False))

    demo.start().wait_until_serving()
    assert "seeding" not in demo.output
    assert demo.count("SELECT count(*) FROM enrollee") == 300
    assert demo.count("SELECT count(*) FROM device") == 300
    demo.assert_stopped_cleanly(demo.stop(signal.SIGTERM, whole_tree=False))


@pytest.mark.own_sqlite
def test_a_port_already_taken_is_said_plainly_before_anything_starts(demo):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", demo.port))
        taken.listen()
        returncode = demo.start().process.wait(timeout=120)
    assert returncode == 1
    assert f"cannot listen on 127.0.0.1:{demo.port} (Address already in use)" in demo.output
    assert "Traceback" not in demo.output and "Mosquitto" not in demo.output
    wait_until(lambda: not demo.processes(), 15, "no process of the demo's to be left")
