"""`telecare serve` in operation: SIGTERM, /healthz, the self-watch, structured logs."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from devices.broker import Mosquitto, free_port
from telecare import beats, logs, selfwatch
from telecare.db import make_engine, make_session_factory
from telecare.models import Alarm, AlarmKind, AlarmState, ServiceBeat
from telecare.runtime import Runtime
from telecare.settings import (
    AlertsSettings,
    LogSettings,
    MqttSettings,
    ServiceSettings,
    SettingsError,
    TwilioSettings,
    WebSettings,
)
from tests.conftest import NOW
from tests.serving import Serve, serve_env, wait_until

PARTS = {beats.BRIDGE, beats.ESCALATION, beats.PLANNED_CALLS, beats.CAMPAIGNS}


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def stall_alarms(sessions) -> list[tuple[str, Alarm]]:
    with sessions() as session:
        found = session.scalars(select(Alarm).where(Alarm.kind == AlarmKind.SERVICE_STALLED)
                                .options(selectinload(Alarm.events))).all()
        return [(a.events[0].detail["component"], a) for a in found]


# -- the whole service in one process --------------------------------------------------------

@pytest.mark.slow
def test_serve_all_beats_watches_itself_and_stops_cleanly_on_sigterm(server_database,
                                                                      tmp_path):
    broker = Mosquitto(tmp_path / "mosquitto").start()
    web_port = free_port()
    env = serve_env(tmp_path, server_database, broker.url,
                    TELECARE_WEB_PORT=str(web_port), TELECARE_LOG_FORMAT="json",
                    TELECARE_SERVICE_BEAT_INTERVAL_S="1", TELECARE_SERVICE_STALE_AFTER_S="3",
                    TELECARE_SERVICE_WATCH_INTERVAL_S="1")
    engine = make_engine(server_database)
    sessions = make_session_factory(engine)
    serve = Serve("all", tmp_path, env)
    healthz = f"http://127.0.0.1:{web_port}/healthz"
    try:
        serve.wait_for("serve: role all running")

        def healthy():
            status, body = get_json(healthz)
            return status == 200 and set(body["components"]) == PARTS and body

        body = wait_until(healthy, 30, what="every part beating and /healthz 200")
        assert body["database"] == "reachable" and body["broker"] == "reachable"
        assert all(part["state"] == "fresh" and part["instances"] == 1
                   for part in body["components"].values()), body
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=5) as m:
            metrics = m.read().decode()
        assert 'telecare_service_beat_age_seconds{component="bridge"}' in metrics
        assert 'telecare_mqtt_messages{type="alarm"} 0.0' in metrics

        # The broker goes away: the bridge cannot receive alarms, stops beating, and the
        # process's own self-watch opens an alarm for the supervisor.
        broker.stop()
        [(component, alarm)] = wait_until(lambda: stall_alarms(sessions), 30,
                                          what="a service_stalled alarm")
        assert component == beats.BRIDGE and alarm.severity.value == "high"
        status, body = get_json(healthz)
        assert status == 503 and body["status"] == "unavailable"
        assert body["components"]["bridge"]["state"] == "stale"
        assert any(r.startswith("broker: no TCP connection") for r in body["reasons"])
        assert any(r.startswith("bridge: last beat") for r in body["reasons"])
        # The scheduler in the same process takes it up (its ladder texts the supervisor).
        wait_until(lambda: stall_alarms(sessions)[0][1].step >= 0, 10,
                   what="the engine taking the stall alarm up")

        # Back on the same port: paho reconnects, the bridge beats, the alarm is cleared
        # (an operator still closes it), and no second alarm was opened meanwhile.
        broker = Mosquitto(tmp_path / "mosquitto", port=broker.port).start()
        wait_until(lambda: stall_alarms(sessions)[0][1].cleared_at is not None, 60,
                   what="the stall alarm cleared")
        assert len(stall_alarms(sessions)) == 1
        wait_until(lambda: get_json(healthz)[0] == 200, 10, what="/healthz 200 again")
    finally:
        status = serve.terminate()
        broker.stop()
        engine.dispose()
    output = serve.output()
    assert status == 0, output[-4000:]
    assert "Traceback" not in output
    stderr = serve.stderr_path.read_text().splitlines()
    assert stderr, "the service logged"
    records = [json.loads(line) for line in stderr]  # every line a JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    messages = [r["message"] for r in records]
    assert "serve: SIGTERM received" in messages and messages[-1] == "serve: stopped"
    assert any(r.get("component") == "bridge" for r in records), "extra fields carried"
    with sessions() as session:
        last = session.scalars(select(ServiceBeat)).all()
    assert {b.component for b in last} == PARTS
    assert all(b.detail.get("stopped") for b in last), "the last beats say stopped"


def test_the_web_server_finishes_a_request_under_way_and_takes_no_new_one():
    from telecare.commands.webserver import WebServer

    started = threading.Event()

    def slow_app(environ, start_response):
        started.set()
        time.sleep(1.0)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"finished"]

    port = free_port()
    server = WebServer(slow_app, "127.0.0.1", port, threads=2).start()
    answers: list[bytes] = []
    request = threading.Thread(target=lambda: answers.append(
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()))
    request.start()
    assert started.wait(5)
    server.stop()  # SIGTERM's part for the web role
    request.join(10)
    assert answers == [b"finished"], "the request under way got its whole answer"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# -- /healthz ----------------------------------------------------------------------------------

class Clock:
    def now(self):
        return NOW


@pytest.fixture
def health(settings, session_factory):
    """A web app on the test's transaction whose settings a test may change."""
    from web import create_app

    def make(**changes):
        runtime = Runtime(settings.replace(web=WebSettings(secret_key="k"), **changes), Clock())
        runtime.sessions = session_factory
        return create_app(runtime, {"TESTING": True}).test_client()

    return make


def add_beat(session, component: str, age_s: float, instance: str = "host-a:1", **detail):
    session.add(ServiceBeat(component=component, instance=instance,
                            started_at=NOW - timedelta(hours=1),
                            last_beat_at=NOW - timedelta(seconds=age_s), detail=detail))
    session.commit()


def test_healthz_is_200_when_every_part_that_ran_beats_and_lists_them(health, session):
    response = health().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    # Embedded broker never started with this data folder, no part ever ran: nothing fails.
    assert body["broker"] == "not running here" and body["components"] == {}
    add_beat(session, beats.BRIDGE, 2)
    add_beat(session, beats.ESCALATION, 50)
    add_beat(session, beats.ESCALATION, 3, instance="host-b:2")
    body = health().get("/healthz").get_json()
    assert body["status"] == "ok" and "reasons" not in body
    assert body["components"][beats.ESCALATION] == {
        "state": "fresh", "last_beat_at": (NOW - timedelta(seconds=3)).isoformat(),
        "age_s": 3.0, "instance": "host-b:2", "instances": 2, "stopped": False}
    assert body["stale_after_s"] == 60


def test_healthz_is_503_naming_a_stale_part(health, session):
    add_beat(session, beats.BRIDGE, 2)
    add_beat(session, beats.PLANNED_CALLS, 61, stopped=True)
    response = health().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["reasons"] == ["scheduler.planned_calls: last beat 61 s ago (stale after 60 s)"]
    assert body["components"][beats.PLANNED_CALLS]["stopped"] is True
    # The staleness is a setting.
    relaxed = health(service=ServiceSettings(stale_after_s=120)).get("/healthz")
    assert relaxed.status_code == 200


def test_healthz_is_503_when_the_configured_broker_refuses_connections(health):
    closed = free_port()
    response = health(mqtt=MqttSettings(url=f"mqtt://127.0.0.1:{closed}")).get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["reasons"] == [f"broker: no TCP connection to 127.0.0.1:{closed}"]


def test_healthz_connects_to_the_embedded_broker_of_its_data_folder(health, settings):
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        (settings.data_dir / "mosquitto").mkdir(parents=True, exist_ok=True)
        (settings.data_dir / "mosquitto" / "port").write_text(str(listener.getsockname()[1]))
        assert health().get("/healthz").get_json()["broker"] == "reachable"
    finally:
        listener.close()
    assert health().get("/healthz").status_code == 503


# -- the self-watch --------------------------------------------------------------------------

def test_a_silent_part_opens_one_alarm_cleared_when_it_beats_again(session):
    stale_after = timedelta(seconds=60)
    add_beat(session, beats.CAMPAIGNS, 90)
    add_beat(session, beats.BRIDGE, 5)
    watched = selfwatch.check(session, NOW, stale_after)
    session.commit()
    assert [c for c, _ in watched.opened] == [beats.CAMPAIGNS]
    [alarm] = session.scalars(select(Alarm).where(Alarm.kind == AlarmKind.SERVICE_STALLED))
    assert alarm.state == AlarmState.OPEN and alarm.enrollee_id is None
    assert alarm.events[0].detail == {
        "component": beats.CAMPAIGNS, "silent_s": 90, "last_instance": "host-a:1",
        "last_beat_at": (NOW - timedelta(seconds=90)).isoformat(), "stopped": False,
        "severity": "high"}
    # Still silent half a minute on: the same alarm, nothing new.
    assert selfwatch.check(session, NOW + timedelta(seconds=30), stale_after).opened == []
    # A second part goes silent: an alarm of its own.
    later = NOW + timedelta(minutes=2)
    opened = selfwatch.check(session, later, stale_after).opened
    assert [c for c, _ in opened] == [beats.BRIDGE]
    # The sweep beats again: its alarm is cleared, still waiting for an operator.
    session.execute(ServiceBeat.__table__.update()
                    .where(ServiceBeat.component == beats.CAMPAIGNS)
                    .values(last_beat_at=later))
    assert selfwatch.check(session, later, stale_after).cleared == [beats.CAMPAIGNS]
    session.commit()
    session.refresh(alarm)
    assert alarm.cleared_at == later and alarm.state == AlarmState.OPEN
    # Silent again before anyone closed it: the same alarm, no longer cleared.
    again = later + timedelta(minutes=5)
    watched = selfwatch.check(session, again, stale_after)
    assert watched.repeated == [beats.CAMPAIGNS] and watched.opened == []
    session.refresh(alarm)
    assert alarm.cleared_at is None and alarm.events[-1].kind == "repeated"
    assert session.query(Alarm).filter(Alarm.kind == AlarmKind.SERVICE_STALLED).count() == 2


def test_rows_of_long_gone_processes_are_forgotten_but_a_parts_newest_is_kept(session):
    add_beat(session, beats.BRIDGE, 8 * 86400, instance="old:1")
    add_beat(session, beats.BRIDGE, 2, instance="new:2")
    add_beat(session, beats.CAMPAIGNS, 9 * 86400, instance="old:3")
    assert beats.forget_old(session, NOW, timedelta(days=7)) == 1
    left = session.execute(select(ServiceBeat.component, ServiceBeat.instance)).all()
    assert sorted(left) == [(beats.BRIDGE, "new:2"), (beats.CAMPAIGNS, "old:3")]


def test_a_stalled_part_is_not_refreshed_by_its_process_stopping(session_factory):
    progress = {"ok": True}
    beat = beats.Beats(session_factory, Clock(), 60)
    beat.add(beats.ESCALATION, lambda: (progress["ok"], {}))
    beat.add(beats.CAMPAIGNS, lambda: (True, {}))
    assert beat.beat_once() == [beats.ESCALATION, beats.CAMPAIGNS]
    progress["ok"] = False
    assert beat.beat_once() == [beats.CAMPAIGNS]
    assert beat.beat_once(stopped=True) == [beats.CAMPAIGNS]


def test_watchers_in_several_processes_open_one_alarm_per_part(server_database):
    engine = make_engine(server_database)
    sessions = make_session_factory(engine)
    with sessions() as session:
        add_beat(session, beats.ESCALATION, 300)
    watches = [selfwatch.SelfWatch(sessions, Clock(), 60, 60) for _ in range(4)]
    barrier = threading.Barrier(len(watches))
    failures: list[BaseException] = []

    def race(watch):
        barrier.wait()
        try:
            watch.run_once()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=race, args=(w,)) for w in watches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert [c for c, _ in stall_alarms(sessions)] == [beats.ESCALATION]
    engine.dispose()


def test_a_stalled_escalation_engine_is_texted_to_the_supervisors_directly(server_database,
                                                                           settings):
    from telecare.commands.liveness import supervisors_texted
    from telecare.settings import DatabaseSettings
    from telecare.twilio_sim import TwilioSim

    account, token = "AC" + "0123456789abcdef" * 2, "token"
    sim = TwilioSim(account, token).start()
    runtime = Runtime(settings.replace(
        database=DatabaseSettings(url=server_database),
        twilio=TwilioSettings(account_sid=account, auth_token=token, from_="+390200000000",
                              api_url=sim.url),
        alerts=AlertsSettings(supervisor_numbers=["+393330001111", "+393330002222"])))
    try:
        tell = supervisors_texted(runtime)
        tell(beats.BRIDGE, 7)  # the engine is alive: its ladder texts the supervisor
        assert sim.messages == []
        tell(beats.ESCALATION, 8)
        assert sorted(m.to for m in sim.messages) == ["+393330001111", "+393330002222"]
        assert "allarme 8" in sim.messages[0].body
    finally:
        sim.stop()
        runtime.close()


# -- structured logs -------------------------------------------------------------------------

def test_json_logs_are_one_object_per_line_with_the_extra_fields():
    stream = io.StringIO()
    logs.configure(LogSettings(format="json", level="info"), stream=stream)
    try:
        logger = logging.getLogger("telecare.test")
        logger.info("alarm %s opened", 42, extra={"alarm": 42, "device": "PND-1"})
        logger.debug("not at INFO")
        try:
            raise ValueError("bad payload")
        except ValueError:
            logger.exception("could not apply")
        lines = stream.getvalue().splitlines()
        first, second = (json.loads(line) for line in lines)
        assert first["message"] == "alarm 42 opened" and first["level"] == "INFO"
        assert first["logger"] == "telecare.test" and first["time"].endswith("Z")
        assert (first["alarm"], first["device"]) == (42, "PND-1")
        assert second["level"] == "ERROR" and "ValueError: bad payload" in second["exception"]
    finally:
        logs.configure(LogSettings())


def test_a_wrong_log_setting_is_named():
    with pytest.raises(SettingsError, match="TELECARE_LOG_FORMAT: expected one of text, json"):
        logs.configure(LogSettings(format="xml"))
    with pytest.raises(SettingsError, match="TELECARE_LOG_LEVEL"):
        logs.configure(LogSettings(level="loud"))
