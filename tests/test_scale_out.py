"""Scale-out (issue 8, done-when 3): two bridges and two schedulers on one database and one
Mosquitto, the bridges sharing the devices' messages through an MQTT 5 shared subscription.

300 enrollees press their button (one QoS 1 alarm each); every alarm's ladder rings the
person back, calls and texts their contact and texts the supervisor, through the local Twilio
stand-in (nobody answers: each ladder walks to its end); 300 weekly calls are due at once.
Each scheduler phones from a number of its own, so the stand-in tells who placed what.
Afterwards: every press is one event and one alarm, every call and text of every ladder was
placed exactly once (nobody phoned twice about one alarm), every weekly call rang once, and
both bridges and both schedulers did part of the work.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from devices.broker import Mosquitto, free_port
from telecare.actor import Actor
from telecare.db import make_engine, make_session_factory
from telecare.enrolment.seed import seed_enrollees
from telecare.models import (
    Alarm,
    AlarmKind,
    AlarmNotification,
    CallAttempt,
    CallKind,
    CallMode,
    DeviceEvent,
    Enrollee,
    NotificationState,
    PlannedCall,
    PlannedCallState,
    ServiceBeat,
    SmsMessage,
)
from telecare.settings import EnrolmentSettings
from telecare.twilio_sim import Behaviour, TwilioSim
from tests.serving import Serve, Storm, make_devices, serve_env, wait_until

ALARMS = 300
WEEKLY_CALLS = 300
ACCOUNT_SID, AUTH_TOKEN = "AC" + "5ca1e0u7" * 4, "scale-out-token"
SUPERVISOR = "+393330009999"
SENDERS = {"scheduler-1": "+390200000001", "scheduler-2": "+390200000002"}
POLICIES = """
[policies.button]
time_box_minutes = 60
ack_timeout_minutes = 60
quiet_hours = false
steps = [
  { action = "callback", timeout_s = 5 },
  { action = "contacts", timeout_s = 5 },
  { action = "supervisor" },
]
[policies.default]
time_box_minutes = 60
ack_timeout_minutes = 60
steps = [{ action = "queue" }]

[emergency.services]
general = { name = "112", number = "112" }
"""


def seed(sessions, now: datetime) -> tuple[list[int], list[int]]:
    """Enrollees with a phone and one contact; the alarm's people and the weekly call's."""
    seed_enrollees(sessions, 450, Actor.system(), now, EnrolmentSettings(), seed=8, contacts=1)
    with sessions() as session:
        people = session.scalars(select(Enrollee.id).order_by(Enrollee.id)).all()
        # Everybody's own weekly slot is in three days: the schedulers' planning adds nothing
        # due now, so the weekly calls due are exactly the ones made below.
        local = now.astimezone(ZoneInfo("Europe/Rome"))
        session.execute(update(Enrollee).values(
            call_weekday=(local.weekday() + 3) % 7, call_window_start=time(10),
            call_window_end=time(11)))
        weekly = people[-WEEKLY_CALLS:]  # 150 of them also press their button
        session.add_all(PlannedCall(
            enrollee_id=enrollee_id, kind=CallKind.COURTESY, mode=CallMode.AUTOMATED,
            occasion=local.date(), planned_at=now - timedelta(minutes=1),
            state=PlannedCallState.PLANNED, next_attempt_at=now - timedelta(minutes=1),
            created_at=now, updated_at=now) for enrollee_id in weekly)
        session.commit()
    return people[:ALARMS], weekly


@pytest.fixture(autouse=True)
def quiet_stand_in():
    """Every status callback fails (no web role here): the stand-in would log each one."""
    logger = logging.getLogger("telecare.twilio_sim")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.mark.slow
def test_two_bridges_and_two_schedulers_share_the_work_and_do_everything_once(
        server_database, tmp_path):
    engine = make_engine(server_database)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    pressing, weekly = seed(sessions, now)
    serials = make_devices(sessions, ALARMS, "SCALE", pressing)
    policies = tmp_path / "escalation.toml"
    policies.write_text(POLICIES)
    broker = Mosquitto(tmp_path / "mosquitto").start()
    sim = TwilioSim(ACCOUNT_SID, AUTH_TOKEN, default=Behaviour.NO_ANSWER).start()
    common = dict(
        TELECARE_MQTT_SHARED_GROUP="bridges", TELECARE_ALERTS_POLICIES_FILE=str(policies),
        TELECARE_ALERTS_SUPERVISOR_NUMBERS=SUPERVISOR, TELECARE_ALERTS_SWEEP_INTERVAL_MS="200",
        TELECARE_TWILIO_ACCOUNT_SID=ACCOUNT_SID, TELECARE_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TELECARE_TWILIO_API_URL=sim.url, TELECARE_TELEPHONY_CALLS_PER_SECOND="200",
        # Twilio's callbacks go nowhere (no web role here): the calls stay unanswered.
        TELECARE_PUBLIC_URL=f"http://127.0.0.1:{free_port()}",
        TELECARE_CALLS_DAY_START="00:00", TELECARE_CALLS_DAY_END="23:59",
        TELECARE_CALLS_BIRTHDAY="false", TELECARE_CALLS_SWEEP_INTERVAL_S="1",
        TELECARE_SERVICE_BEAT_INTERVAL_S="1")
    processes: list[Serve] = []
    storm = None
    try:
        for n in (1, 2):
            processes.append(Serve("bridge", tmp_path, serve_env(
                tmp_path / f"bridge-{n}", server_database, broker.url, **common,
                TELECARE_MQTT_CLIENT_ID=f"bridge-{n}-{uuid.uuid4().hex[:6]}"),
                name=f"bridge-{n}"))
        for name, number in SENDERS.items():
            processes.append(Serve("scheduler", tmp_path, serve_env(
                tmp_path / name, server_database, broker.url, **common,
                TELECARE_TWILIO_FROM=number), name=name))
        for process in processes:
            process.wait_for("running (instance")
        for process in processes[:2]:
            process.wait_for("bridge: connected")
        storm = Storm(broker.url, serials)
        storm.run(1.0)
        storm.wait_acknowledged()

        def count(query) -> int:
            with sessions() as session:
                return session.scalar(query)

        def done() -> bool:
            return (count(select(func.count()).select_from(Alarm).where(
                        Alarm.kind == AlarmKind.BUTTON, Alarm.escalated_at.is_not(None),
                        Alarm.next_step_at.is_(None))) == ALARMS
                    and count(select(func.count()).select_from(AlarmNotification).where(
                        AlarmNotification.state.in_([NotificationState.PENDING,
                                                     NotificationState.SENDING]))) == 0
                    and count(select(func.count()).select_from(PlannedCall).where(
                        PlannedCall.state == PlannedCallState.PLANNED,
                        PlannedCall.kind == CallKind.COURTESY,
                        PlannedCall.created_at == now)) == 0)

        wait_until(done, 90, every=0.5, what="every ladder walked and every weekly call rung")
        wait_until(lambda: len(sim.calls) == count(select(func.count())
                                                   .select_from(CallAttempt)), 10,
                   what="the stand-in hearing of every call placed")
        for process in processes:
            assert process.terminate() == 0, process.output()[-4000:]
    finally:
        for process in processes:
            process.kill()
        if storm is not None:
            storm.close()
        sim.stop()
        broker.stop()

    for process in processes:
        assert "Traceback" not in process.output(), process.output()[-4000:]
    with sessions() as session:
        events = session.scalars(select(DeviceEvent.device_id)
                                 .where(DeviceEvent.type == "alarm")).all()
        alarms = session.scalars(select(Alarm.enrollee_id)
                                 .where(Alarm.kind == AlarmKind.BUTTON)).all()
        notifications = session.execute(select(
            AlarmNotification.id, AlarmNotification.alarm_id, AlarmNotification.number,
            AlarmNotification.channel, AlarmNotification.state)).all()
        attempts = session.execute(select(CallAttempt.call_sid, CallAttempt.purpose,
                                          CallAttempt.params)).all()
        texts = session.execute(select(SmsMessage.message_sid, SmsMessage.purpose)
                                .where(SmsMessage.direction == "outbound")).all()
        planned = session.execute(select(PlannedCall.id, PlannedCall.state,
                                         PlannedCall.attempts)
                                  .where(PlannedCall.kind == CallKind.COURTESY,
                                         PlannedCall.created_at == now)).all()
        bridge_beats = session.scalars(select(ServiceBeat).where(
            ServiceBeat.component == "bridge")).all()

    # Every press: one event, one alarm per person.
    assert len(events) == len(set(events)) == ALARMS
    assert Counter(alarms) == Counter(pressing)

    # Every ladder: 2 calls (the person, the contact) and 2 texts (contact, supervisor).
    assert Counter(channel for _, _, _, channel, _ in notifications) == {
        "voice": 2 * ALARMS, "sms": 2 * ALARMS}
    assert {state for *_, state in notifications} == {NotificationState.SENT}
    per_alarm_number = Counter((alarm, number, channel)
                               for _, alarm, number, channel, _ in notifications)
    assert max(per_alarm_number.values()) == 1, "nobody phoned or texted twice for one alarm"
    # ... each placed exactly once: one call attempt per voice notification, one stand-in
    # call per attempt, one SMS per text.
    voice = {n for n, _, _, channel, _ in notifications if channel == "voice"}
    escalation_calls = Counter(params["notification"] for _, purpose, params in attempts
                               if purpose == "escalation")
    assert set(escalation_calls) == voice and max(escalation_calls.values()) == 1
    placed = Counter(call.sid for call in sim.calls)
    assert max(placed.values()) == 1
    assert set(placed) == {sid for sid, _, _ in attempts}, "every call placed is recorded"
    assert Counter(purpose for _, purpose in texts) == {"escalation": 2 * ALARMS}
    assert len(sim.messages) == 2 * ALARMS
    assert {m.sid for m in sim.messages} == {sid for sid, _ in texts}, "each text recorded"
    assert Counter(m.to for m in sim.messages)[SUPERVISOR] == ALARMS

    # Every weekly call due: rung once, by one of the two schedulers.
    weekly_calls = Counter(params["planned_call"] for _, purpose, params in attempts
                           if purpose != "escalation")
    assert len(weekly_calls) == WEEKLY_CALLS and max(weekly_calls.values()) == 1
    assert sorted(weekly_calls) == sorted(i for i, _, _ in planned)
    assert all(state == PlannedCallState.CALLING and tries == 1
               for _, state, tries in planned), "each waits for its outcome, rung once"

    # Both of each did part of the work.
    assert Counter(call.from_ for call in sim.calls).keys() == set(SENDERS.values())
    assert len(bridge_beats) == 2 and all(b.detail["events"] > 0 for b in bridge_beats), [
        b.detail for b in bridge_beats]
    engine.dispose()
