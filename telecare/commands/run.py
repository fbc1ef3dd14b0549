"""`telecare serve` (production) and `telecare demo` (everything local, working defaults)."""

from __future__ import annotations

import logging

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
    ("sociale", "Giulia Conti (servizi sociali)", Role.SOCIAL_WORKER),
    ("operatore", "Marco Galli (operatore)", Role.OPERATOR),
    ("supervisore", "Elena Riva (supervisore)", Role.SUPERVISOR),
]
DEMO_ENROLLEES = 300


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: web.host).")
@click.option("--port", type=int, default=None, help="Port (default: web.port).")
@click.option("--threads", type=int, default=8, show_default=True)
@click.pass_obj
def serve(runtime, host, port, threads) -> None:
    """Run the web console and API with a production WSGI server (waitress)."""
    _serve(runtime, host, port, threads)


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
    from telecare.commands.devices import devices_running

    with devices_running(runtime):
        _serve(runtime, host, port, threads=8)


def _serve(runtime, host, port, threads) -> None:
    import waitress

    from web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(runtime)
    waitress.serve(app, host=host or runtime.settings.web.host,
                   port=port or runtime.settings.web.port, threads=threads)
