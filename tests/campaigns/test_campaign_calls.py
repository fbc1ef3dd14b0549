"""Warnings and heat checks through the real telephony path: our app over HTTP, the Twilio
stand-in."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import waitress
from sqlalchemy import func, select

from campaigns.delivery import delivery_report
from campaigns.geography import shipped_neighbours
from campaigns.heat import HeatCoverage
from campaigns.phone import TelephonySender
from campaigns.scams import read_scam_report, send_scam_warning
from campaigns.sweep import tick
from telecare.actor import Actor
from telecare.db import session_scope
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import (
    Alarm,
    AlarmKind,
    CallAttempt,
    Campaign,
    CampaignDelivery,
    CampaignKind,
    CampaignState,
    HeatForecast,
    Severity,
)
from telecare.runtime import Runtime
from telecare.settings import (
    CampaignSettings,
    DatabaseSettings,
    TelephonySettings,
    TwilioSettings,
    WebSettings,
    config_dir,
)
from telecare.telephony.calls import Dialer
from telecare.telephony.ratelimit import TokenBucket
from telecare.telephony.sms import Messenger
from telecare.telephony.twilio_adapter import TwilioTelephony
from telecare.twilio_sim import TwilioSim
from tests.factories import enrollee_data
from web import create_app

ROME = ZoneInfo("Europe/Rome")
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=ROME).astimezone(UTC)
NIGHT = datetime(2026, 11, 24, 23, 0, tzinfo=ROME).astimezone(UTC)
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "campaign-test-token"
CALLS_PER_SECOND = 4
PEOPLE = 16
SETTINGS = CampaignSettings(max_attempts=2, retry_minutes=0)


class Clock:
    def __init__(self, at):
        self.at = at

    def now(self):
        return self.at


@pytest.fixture
def phone_network(settings, server_database):
    clock = Clock(MORNING)
    runtime = Runtime(settings.replace(database=DatabaseSettings(url=server_database),
                                       web=WebSettings(secret_key="campaign-test")), clock)
    server = waitress.create_server(create_app(runtime), host="127.0.0.1", port=0, threads=8)
    public_url = f"http://127.0.0.1:{server.effective_port}"
    sim = TwilioSim(ACCOUNT_SID, AUTH_TOKEN, press_wait=10.0).start()
    runtime.settings = runtime.settings.replace(
        public_url=public_url,
        twilio=TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                              from_="+390200000000", api_url=sim.url),
        telephony=TelephonySettings(calls_per_second=CALLS_PER_SECOND))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    telephony = TwilioTelephony(runtime.settings, bucket=TokenBucket(CALLS_PER_SECOND))
    sender = TelephonySender(Dialer(runtime.settings, runtime.sessions, telephony, clock),
                             Messenger(runtime.settings, runtime.sessions, telephony, clock))
    yield runtime, sim, sender, clock
    sim.stop()
    server.close()
    thread.join(timeout=5)
    runtime.close()


def test_it_warns_each_person_once_within_the_call_rate_and_not_at_night(phone_network):
    runtime, sim, sender, clock = phone_network
    numbers = [f"+390226{n:06d}" for n in range(PEOPLE)]
    with session_scope(runtime.sessions) as session:
        for number in numbers:
            data = read_enrollee(enrollee_data(
                municipality_istat="015032", phones=[{"number": number, "kind": "landline"}]),
                MORNING.date(), runtime.settings.enrolment)
            service.enrol(session, data, Actor("giulia"), MORNING)
        report = read_scam_report({"municipality": "015032", "scam_kind": "fake_carabiniere",
                                   "message_it": "Attenzione ai falsi carabinieri.",
                                   "valid_until": "2026-12-31"}, MORNING.date(), ["it"], None)
        campaign, queued = send_scam_warning(session, report, shipped_neighbours(), None,
                                             Actor("operatore1"), NIGHT)
        campaign_id = campaign.id
    assert queued == PEOPLE
    # Most answer and press 1; some never answer; some have an answering machine.
    for number in numbers[:12]:
        sim.person(number, "answer", ["1"])
    for number in numbers[12:14]:
        sim.person(number, "no_answer")
    for number in numbers[14:]:
        sim.person(number, "voicemail")

    night = tick(runtime.sessions, sender, SETTINGS, ROME, NIGHT)
    assert (night.sent.sent, night.sent.deferred) == (0, PEOPLE)
    assert sim.calls == []  # nobody is phoned at 23:00

    morning = datetime(2026, 11, 25, 9, 0, tzinfo=ROME).astimezone(UTC)
    clock.at = morning
    started = time.monotonic()
    while time.monotonic() - started < 60:
        tick(runtime.sessions, sender, SETTINGS, ROME, morning)
        sim.wait_idle(timeout=30)
        with session_scope(runtime.sessions) as session:
            if session.get(Campaign, campaign_id).state == CampaignState.DONE:
                break
    with session_scope(runtime.sessions) as session:
        counts = delivery_report(session, session.get(Campaign, campaign_id))
        attempts = dict(session.execute(select(CallAttempt.to_number, func.count())
                                        .group_by(CallAttempt.to_number)).all())
    assert counts == {"delivered": 12, "failed": 4}  # the report adds up to everyone
    assert all(attempts[n] == 1 for n in numbers[:12])  # heard once, never called again
    assert all(attempts[n] == 2 for n in numbers[12:])  # retried up to the attempts allowed
    heard = " ".join(sim.person(numbers[0]).heard)
    assert "Attenzione ai falsi carabinieri." in heard
    # Calls are spaced 1/rate apart when placed; as they arrive, HTTP latency can bring
    # two of them closer, so one second may see one more than the rate, never a burst.
    created = sorted(sim.call_created_at)
    busiest = max(sum(1 for t in created if start <= t < start + 1.0) for start in created)
    assert busiest <= CALLS_PER_SECOND + 1
    first_round = created[:PEOPLE]
    assert (len(first_round) - 1) / (first_round[-1] - first_round[0]) <= CALLS_PER_SECOND * 1.1
    assert sim.errors == []


def test_a_heat_check_nobody_hears_opens_an_alarm_and_a_warning_nobody_hears_does_not(
        phone_network):
    runtime, sim, sender, clock = phone_network
    # Six people living alone in Milan on a red day: each gets the heat warning and the
    # daily check call. Three answer and press 1; one never answers, one has an answering
    # machine, and one's number the network refuses (the card holds a wrong number).
    numbers = [f"+390226{n:06d}" for n in range(100, 106)]
    with session_scope(runtime.sessions) as session:
        people = {}
        for number in numbers:
            data = read_enrollee(enrollee_data(
                municipality_istat="015146", lives_alone=True,
                phones=[{"number": number, "kind": "landline"}]),
                MORNING.date(), runtime.settings.enrolment)
            people[number] = service.enrol(session, data, Actor("giulia"), MORNING).id
        session.add(HeatForecast(city="MILANO", day=MORNING.astimezone(ROME).date(), level=3,
                                 issued_on=MORNING.date(), source="manual",
                                 updated_at=MORNING))
    for number in numbers[:3]:
        sim.person(number, "answer", ["1"])
    sim.person(numbers[3], "no_answer")
    sim.person(numbers[4], "voicemail")
    sim.person(numbers[5], "invalid")
    unheard = {people[n] for n in numbers[3:]}

    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    # The retry half an hour on, as configured: retried at once, the warning's and the
    # check's calls to one person would hit the telephony layer's per-number limit.
    settings = CampaignSettings(max_attempts=2, retry_minutes=30)
    started = time.monotonic()
    while time.monotonic() - started < 60:
        tick(runtime.sessions, sender, settings, ROME, clock.at, coverage, ["it"])
        sim.wait_idle(timeout=30)
        clock.at += timedelta(minutes=31)
        with session_scope(runtime.sessions) as session:
            campaigns = session.scalars(select(Campaign)).all()
            if len(campaigns) == 2 and all(c.state == CampaignState.DONE for c in campaigns):
                break
    with session_scope(runtime.sessions) as session:
        reports = {c.kind: delivery_report(session, c)
                   for c in session.scalars(select(Campaign))}
        failed_checks = set(session.scalars(
            select(CampaignDelivery.enrollee_id).join(Campaign)
            .where(Campaign.kind == CampaignKind.HEAT_CHECK,
                   CampaignDelivery.state == "failed")))
        found = session.scalars(select(Alarm).order_by(Alarm.enrollee_id)).all()
        alarms = [(a.enrollee_id, a.kind, a.severity, [e.kind for e in a.events])
                  for a in found]
        reasons = [a.events[0].detail["reason"] for a in found]
    assert reports == {CampaignKind.HEAT_WARNING: {"delivered": 3, "failed": 3},
                       CampaignKind.HEAT_CHECK: {"delivered": 3, "failed": 3}}
    assert failed_checks == unheard
    # One alarm for each person the check did not hear, opened once: the warnings that
    # failed for the same people added nothing to it.
    assert alarms == [(people[n], AlarmKind.HEAT_CHECK_UNANSWERED, Severity.HIGH, ["opened"])
                      for n in numbers[3:]]
    assert reasons[:2] == ["no_answer", "voicemail"] and "error 21211" in reasons[2]
    heard = " ".join(sim.person(numbers[0]).heard)
    assert "Se sta bene, prema il tasto 1" in heard  # the check asks; it does not just tell
    assert sim.errors == []
