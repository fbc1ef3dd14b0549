"""The service under test: a fresh database with the city's people, and the product's parts
assembled as `telecare serve` assembles them, around the simulated clock and phone network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from alerts import responses
from alerts.engine import Engine
from alerts.messages import PhoneSender
from bench.courtesy_plan import create_database_if_missing
from bench.milan_day import figures
from bench.milan_day.agenda import Agenda, SimClock
from bench.milan_day.network import PhoneNetwork
from bench.milan_day.operators import Centre
from bench.milan_day.pendants import Pendants
from bench.milan_day.people import People
from bench.milan_day.warnings import Warnings
from campaigns.phone import TelephonySender
from devices.simulator import ensure_devices
from telecare.actor import Actor
from telecare.commands.planned_calls import campaign_news, plan_ahead
from telecare.courtesy.caller import PlannedCaller
from telecare.db import session_scope
from telecare.enrolment.seed import seed_enrollees
from telecare.migrate import recreate
from telecare.models import CallMode, Enrollee
from telecare.runtime import Runtime
from telecare.settings import AlertsSettings, DatabaseSettings, Settings, TelephonySettings
from telecare.telephony.calls import Dialer
from telecare.telephony.sms import Messenger

# One in 25 people is rung by an operator rather than the automated call (as in
# bench/courtesy_plan.py): people who hear badly, or asked for a voice they know.
OPERATOR_EVERY = 25
SUPERVISOR = "+393330000001"  # the shift supervisor's mobile, for the ladders' texts
# What the campaign loop's pace comes to (bench.milan_day.day); the in-process network has
# no token bucket of its own, so this is what the settings say, not a limit enforced here.
CALLS_PER_SECOND = 20


@dataclass
class Service:
    runtime: Runtime
    agenda: Agenda
    people: People
    network: PhoneNetwork
    pendants: Pendants
    centre: Centre
    engine: Engine
    caller: PlannedCaller
    warnings: Warnings


def build(url: str, enrollees: int, start: datetime, seed: int) -> Service:
    """Seed the people and their pendants, plan their week, assemble the running parts."""
    clock = SimClock(start - timedelta(days=1))  # they were enrolled before the day
    runtime = seed_city(url, enrollees, clock, seed)
    clock.at = start
    plan_ahead(runtime)  # the scheduler's hourly job: slots for everyone, the week's calls
    return assemble(runtime, clock, enrollees, random.Random(seed))


def seed_city(url: str, enrollees: int, clock: SimClock, seed: int) -> Runtime:
    """A fresh database: the people, each with three contacts and a pendant."""
    create_database_if_missing(url)
    engine = recreate(url)
    settings = Settings(database=DatabaseSettings(url=url),
                        alerts=AlertsSettings(supervisor_numbers=[SUPERVISOR]),
                        telephony=TelephonySettings(calls_per_second=CALLS_PER_SECOND))
    runtime = Runtime(settings, clock)
    runtime.__dict__["engine"] = engine  # the engine recreate made: one pool
    sessions = runtime.sessions
    seed_enrollees(sessions, enrollees, Actor("bench"), clock.now(), settings.enrolment,
                   seed=seed, contacts=3)  # a neighbour with a key, a relative, the doctor
    with session_scope(sessions) as session:
        session.execute(update(Enrollee).where(Enrollee.id % OPERATOR_EVERY == 0)
                        .values(call_mode=CallMode.OPERATOR))
    ensure_devices(sessions, enrollees, figures.HEARTBEAT_S, prefix="MI-", now=clock.now())
    return runtime


def assemble(runtime: Runtime, clock: SimClock, enrollees: int,
             rng: random.Random) -> Service:
    """The product's parts, wired to the simulated clock, phone network and people."""
    settings, sessions = runtime.settings, runtime.sessions
    agenda = Agenda(clock)
    with sessions() as session:
        people = People.of(session, rng)
    pendants = Pendants(agenda, sessions, settings, people, rng)
    pendants.load()
    network = PhoneNetwork(agenda, sessions, settings, people, pendants.test_button)
    dialer = Dialer(settings, sessions, network, clock)
    messenger = Messenger(settings, sessions, network, clock)
    responses.connect()  # a contact's 1, a call ending: the ladder hears it (as web does)
    centre = Centre.staffed(agenda, sessions, settings, people, rng, enrollees)
    return Service(
        runtime=runtime, agenda=agenda, people=people, network=network, pendants=pendants,
        centre=centre,
        engine=Engine(runtime, PhoneSender(dialer, messenger)),
        caller=PlannedCaller(settings, sessions, dialer, clock, news=campaign_news(settings)),
        warnings=Warnings(agenda, sessions, settings, TelephonySender(dialer, messenger),
                          centre.operators[0].actor))
