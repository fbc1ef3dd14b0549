"""`telecare demo`: the whole service working locally, nothing to configure.

One process tree: SQLite in the data folder, the embedded Mosquitto (a child process) with
the device bridge, a simulated fleet with a pendant for every enrollee (demo_fleet), the
local Twilio stand-in playing the city's people (demo_people), the escalation engine, the
weekly calls at demo speed (demo_calls), the warnings' delivery and the web console.
Ctrl-C or SIGTERM stops it all, in order, and the command exits 0.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace

import click
from sqlalchemy import func, select

from telecare import migrate
from telecare.actor import Actor
from telecare.db import session_scope
from telecare.models import Enrollee, Role, User
from telecare.users import create_user

DEMO_PASSWORD = "telecare-demo"
DEMO_USERS = [
    ("admin", "Amministratore demo", Role.ADMIN),
    ("sociale", "Giulia Conti", Role.SOCIAL_WORKER),
    ("operatore", "Marco Galli", Role.OPERATOR),
    ("supervisore", "Elena Riva", Role.SUPERVISOR),
]
DEMO_OPERATOR = "operatore"
DEMO_ENROLLEES = 300
# The stand-in's sense of time: a <Pause length="1">, or a person's silence at a prompt
# waiting 10 s, lasts half as long in real time (the weekly call's button check included).
PAUSE_SCALE = 0.5
# Seconds the console lets its requests finish when stopping: the demo's are short, and an
# open alarm queue's event stream would otherwise hold it for the server's full drain.
WEB_DRAIN_S = 2.0


class StopRequests:
    """Ctrl-C and SIGTERM ask the demo to stop; it then stops everything, in order.

    The handlers only set a flag: nothing is cut off half-way (a commit, the broker's start),
    and a second Ctrl-C does not cut the orderly stop short.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self) -> StopRequests:
        self.asked = threading.Event()
        self._previous = {sig: signal.signal(sig, self._ask) for sig in self.SIGNALS}
        return self

    def __exit__(self, *_exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _ask(self, _signum, _frame) -> None:
        self.asked.set()

    def wait(self) -> None:
        # With a timeout: the handler runs in this thread, between two waits.
        while not self.asked.wait(0.5):
            pass


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: web.host).")
@click.option("--port", type=int, default=None,
              help="Port (default: web.port, also TELECARE_WEB_PORT).")
@click.pass_obj
def demo(runtime, host, port) -> None:
    """Run the whole service locally with a simulated city: nothing to configure."""
    from telecare.commands.demo_calls import demo_speed
    from telecare.commands.startup import start_logging

    start_logging(runtime)
    # Alembic logs each of the migrations a fresh demo runs: the banner is what matters.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

    with StopRequests() as stop:
        prepare(runtime)
        runtime.settings = demo_speed(runtime.settings)
        if not stop.asked.is_set():
            run(runtime, host or runtime.settings.web.host, port or runtime.settings.web.port,
                stop)
    click.echo("Telecare demo stopped.")


def prepare(runtime) -> None:
    """The schema, the demo users and, on a fresh database, a seeded city."""
    settings = runtime.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    with session_scope(runtime.sessions) as session:
        for username, name, role in DEMO_USERS:
            if not session.scalars(select(User).where(User.username == username)).first():
                create_user(session, username, name, role, DEMO_PASSWORD, Actor.system(),
                            runtime.clock.now())
        enrollees = session.scalar(select(func.count()).select_from(Enrollee))
    if not enrollees:
        from telecare.enrolment.seed import seed_enrollees

        click.echo(f"seeding {DEMO_ENROLLEES} enrollees over the Città metropolitana di Milano")
        seed_enrollees(runtime.sessions, DEMO_ENROLLEES, Actor.system(), runtime.clock.now(),
                       settings.enrolment, seed=2026, zone=settings.zone)


def run(runtime, host: str, port: int, stop: StopRequests) -> None:
    """Start everything, wait for Ctrl-C or SIGTERM, stop everything: the console last but
    for the bridge and its broker."""
    from telecare.commands.alerts import escalation_running
    from telecare.commands.campaigns import campaigns_running
    from telecare.commands.demo_calls import bring_forward
    from telecare.commands.demo_fleet import fleet_running
    from telecare.commands.planned_calls import plan_ahead, planned_calls_running
    from telecare.commands.webserver import WebServer
    from web import create_app

    port_is_free(host, port)  # said before starting everything, not after
    with bridge_running(runtime) as bridge, ExitStack() as world:
        pendants = (world.enter_context(fleet_running(runtime, bridge.address))
                    if bridge is not None else None)
        sim = world.enter_context(phone_network(runtime, host, port, pendants))
        world.enter_context(escalation_running(runtime))
        plan_ahead(runtime)  # now, so that the calls brought forward exist
        brought = bring_forward(runtime)
        world.enter_context(planned_calls_running(runtime))
        world.enter_context(campaigns_running(runtime))  # an operator's scam warning rings
        try:
            web = WebServer(create_app(runtime), host, port, threads=8,
                            drain_s=WEB_DRAIN_S).start()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None
        try:
            banner(runtime, f"{web.addresses[0]}/", sim, pendants, brought)
            stop.wait()
            click.echo("stopping: the calls, warnings, escalation, phones and pendants, then "
                       "the console, then the bridge and its broker")
        finally:
            world.close()  # while the console still takes their last callbacks
            web.stop()


def port_is_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        # As waitress binds: a port left in TIME_WAIT by the last run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}): is the demo already "
                "running? Another port: --port or TELECARE_WEB_PORT") from None


def banner(runtime, url: str, sim, pendants, brought: int) -> None:
    from telecare.commands.demo_calls import SPACING
    from telecare.commands.demo_fleet import OPENING
    from telecare.commands.demo_people import City

    with runtime.sessions() as session:
        enrollees = session.scalar(select(func.count()).select_from(Enrollee))
    others = ", ".join(u for u, _, _ in DEMO_USERS if u != DEMO_OPERATOR)
    lines = [
        "",
        f"Telecare demo: {url}",
        f"  operator's login: {DEMO_OPERATOR}, password {DEMO_PASSWORD}"
        f" (also {others}, same password)",
        f"  the city: {enrollees} enrollees with their contacts",
    ]
    if pendants is not None:
        first = min(after for what, after in OPENING if what in ("alarm", "fall"))
        lines.append(f"  pendants: one each, simulated; the first alarm in about {first:.0f} s, "
                     "then one every minute or two; one pendant goes offline for good")
    else:
        lines.append("  pendants: none (no MQTT broker; see the message above)")
    minutes = max(1, round(brought * SPACING.total_seconds() / 60))
    lines.append(f"  weekly calls: {brought} of this week's brought forward to ring over the "
                 f"next {minutes} min, at any hour")
    if sim is not None:
        lines.append(f"  phones: the local Twilio stand-in; of the people it plays, "
                     f"{City.summary()}")
        lines.append(f"  what each person heard: {sim.url}/_sim/calls.json")
    else:
        lines.append("  phones: Twilio, as configured")
    lines.append(f"  data in {runtime.settings.data_dir.resolve()} (delete it to start "
                 "afresh); Ctrl-C stops")
    click.echo("\n".join(lines) + "\n")


@contextmanager
def bridge_running(runtime) -> Iterator:
    """The device bridge and its embedded Mosquitto; without Mosquitto, None: the demo
    still runs, without devices."""
    from devices.bridge import Bridge
    from telecare.commands.devices import broker_address

    stack = ExitStack()
    try:
        address = stack.enter_context(broker_address(runtime))
    except click.ClickException as exc:
        click.echo(f"  devices: not started ({exc.message})", err=True)
        yield None
        return
    with stack:
        bridge = Bridge(runtime, address).start()
        try:
            yield bridge
        finally:
            bridge.stop()


@contextmanager
def phone_network(runtime, host: str, port: int, pendants=None) -> Iterator:
    """The demo's phones: the local Twilio stand-in playing the city's people (yielded),
    unless a Twilio account is configured (None)."""
    from telecare.commands.demo_people import City
    from telecare.commands.telephony import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
    from telecare.twilio_sim import TwilioSim

    settings = runtime.settings
    if settings.twilio.account_sid:
        yield None
        return
    public_url = f"http://{host}:{port}"
    city = City(settings.enrolment.languages,
                pendants.press_test if pendants is not None else None)
    sim = TwilioSim(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, port=0,
                    sms_url=f"{public_url}/twilio/sms/inbound", pause_scale=PAUSE_SCALE,
                    cast=city.person).start()
    runtime.settings = settings.replace(
        public_url=public_url,
        twilio=replace(settings.twilio, account_sid=DEMO_ACCOUNT_SID, auth_token=DEMO_AUTH_TOKEN,
                       from_=settings.twilio.from_ or "+390200000000", api_url=sim.url))
    try:
        yield sim
    finally:
        sim.stop()
