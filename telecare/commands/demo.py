"""`telecare demo`: the whole service locally, nothing to configure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import func, select

from telecare import migrate
from telecare.actor import Actor
from telecare.commands.run import serve_web
from telecare.db import session_scope
from telecare.models import Enrollee, Role, User
from telecare.users import create_user

DEMO_PASSWORD = "telecare-demo"
DEMO_USERS = [
    ("admin", "Amministratore demo", Role.ADMIN),
    ("sociale", "Giulia Conti (servizi sociali)", Role.SOCIAL_WORKER),
    ("operatore", "Marco Galli (operatore)", Role.OPERATOR),
    ("supervisore", "Elena Riva (supervisore)", Role.SUPERVISOR),
]
DEMO_ENROLLEES = 300



@click.command()
@click.option("--host", default=None, help="Address to listen on (default: web.host).")
@click.option("--port", type=int, default=None, help="Port (default: web.port).")
@click.pass_obj
def demo(runtime, host, port) -> None:
    """Run the service locally with demo users and a seeded city: nothing to configure."""
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
    host = host or settings.web.host
    port = port or settings.web.port
    click.echo("")
    click.echo(f"Telecare demo: http://{host}:{port}/")
    click.echo(f"  log in as one of {', '.join(u for u, _, _ in DEMO_USERS)}, "
               f"password {DEMO_PASSWORD!r}")
    click.echo(f"  data in {settings.data_dir.resolve()} (delete it to start afresh); Ctrl-C stops")
    from telecare.commands.alerts import escalation_running
    from telecare.commands.devices import devices_running
    from telecare.commands.planned_calls import planned_calls_running

    with devices_running(runtime), phone_network(runtime, host, port), \
            escalation_running(runtime), planned_calls_running(runtime):
        serve_web(runtime, host, port, threads=8)


@contextmanager
def phone_network(runtime, host: str, port: int) -> Iterator[None]:
    """The demo's phones: the local Twilio stand-in, unless a Twilio account is configured."""
    from dataclasses import replace

    from telecare.commands.telephony import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
    from telecare.twilio_sim import Behaviour, TwilioSim

    settings = runtime.settings
    if settings.twilio.account_sid:
        click.echo("  phones: Twilio, as configured")
        yield
        return
    public_url = f"http://{host}:{port}"
    sim = TwilioSim(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, port=0,
                    sms_url=f"{public_url}/twilio/sms/inbound",
                    default=Behaviour.ANSWER, default_keys=["1"]).start()
    runtime.settings = settings.replace(
        public_url=public_url,
        twilio=replace(settings.twilio, account_sid=DEMO_ACCOUNT_SID, auth_token=DEMO_AUTH_TOKEN,
                       from_=settings.twilio.from_ or "+390200000000", api_url=sim.url))
    click.echo(f"  phones: the local Twilio stand-in at {sim.url} (what each person heard: "
               f"{sim.url}/_sim/calls.json)")
    try:
        yield
    finally:
        sim.stop()
