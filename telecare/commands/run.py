"""`telecare serve`: the service for production, in one process or one per role."""

from __future__ import annotations

import logging
from contextlib import ExitStack

import click

ROLES = ("all", "web", "bridge", "scheduler")


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: web.host).")
@click.option("--port", type=int, default=None, help="Port (default: web.port).")
@click.option("--threads", type=int, default=8, show_default=True)
@click.option("--role", type=click.Choice(ROLES), default="all", show_default=True,
              help="web: console, API and Twilio webhooks; bridge: the MQTT device bridge; "
                   "scheduler: the escalation engine and the planned calls; all: the three "
                   "in one process.")
@click.pass_obj
def serve(runtime, host, port, threads, role) -> None:
    """Run the service for production: web (waitress), device bridge, scheduler."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from telecare.commands.alerts import escalation_running
    from telecare.commands.devices import devices_running
    from telecare.commands.planned_calls import planned_calls_running
    from telecare.commands.waiting import wait_for_stop

    with ExitStack() as stack:
        if role in ("all", "bridge"):
            stack.enter_context(devices_running(runtime))
        if role in ("all", "scheduler"):
            stack.enter_context(escalation_running(runtime))
            stack.enter_context(planned_calls_running(runtime))
        if role in ("all", "web"):
            serve_web(runtime, host, port, threads)
        else:
            wait_for_stop()


def serve_web(runtime, host, port, threads) -> None:
    import waitress

    from web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # twilio-python logs every request's headers at INFO: our own log says what was placed.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    app = create_app(runtime)
    waitress.serve(app, host=host or runtime.settings.web.host,
                   port=port or runtime.settings.web.port, threads=threads)
