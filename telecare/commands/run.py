"""`telecare serve`: the service for production, in one process or one per role.

Roles: `web` (console, API, Twilio webhooks), `bridge` (MQTT devices), `scheduler` (the
escalation engine, the planned calls, the warnings' delivery, the daily erasure of expired
records), `all` (the three). Any number
of processes of each role may share one PostgreSQL database and one MQTT 5 broker (bridges
with mqtt.shared_group set): every piece of work is claimed in the database by one of them.

Every process beats for the parts it runs (telecare.beats) and watches the others' beats
(telecare.selfwatch). SIGTERM (or Ctrl-C) stops it in order, newest part first: the web
server stops accepting and finishes its requests; the sweeps finish the pass under way; the
bridge commits and acknowledges what it holds and leaves the rest to the broker; the last
beats say "stopped". A second Ctrl-C ends the process at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from contextlib import ExitStack

import click

from telecare import beats
from telecare.commands.startup import start_logging
from telecare.runtime import Runtime

ROLES = ("all", "web", "bridge", "scheduler")
log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: web.host).")
@click.option("--port", type=int, default=None, help="Port (default: web.port).")
@click.option("--threads", type=int, default=8, show_default=True)
@click.option("--role", type=click.Choice(ROLES), default="all", show_default=True,
              help="web: console, API and Twilio webhooks; bridge: the MQTT device bridge; "
                   "scheduler: the escalation engine, the planned calls and the warnings' "
                   "delivery; all: the three in one process.")
@click.pass_obj
def serve(runtime, host, port, threads, role) -> None:
    """Run the service for production: web (waitress), device bridge, scheduler."""
    start_logging(runtime)
    stop = _stop_on_signals()
    with ExitStack() as stack:
        _start(stack, runtime, role, host, port, threads)
        log.info("serve: role %s running (instance %s)", role, beats.instance_id())
        while not stop.wait(0.5):
            pass
        log.info("serve: stopping in order")
    log.info("serve: stopped")


def _start(stack: ExitStack, runtime: Runtime, role: str, host, port, threads) -> None:
    """Start the role's parts on `stack`, which stops them in the reverse order."""
    from campaigns import sweep as campaign_sweep
    from telecare.commands.alerts import escalation_probe, escalation_running
    from telecare.commands.campaigns import campaigns_running
    from telecare.commands.devices import bridge_running
    from telecare.commands.liveness import (
        beating,
        bridge_probe,
        quiet_allowed,
        self_watch_running,
    )
    from telecare.commands.planned_calls import planned_calls_running
    from telecare.commands.privacy import privacy_running

    settings = runtime.settings
    beat = stack.enter_context(beating(runtime))
    if role in ("all", "bridge"):
        bridge = stack.enter_context(bridge_running(runtime))
        beat.add(beats.BRIDGE, bridge_probe(bridge, quiet_allowed(runtime)))
    if role in ("all", "scheduler"):
        engine = stack.enter_context(escalation_running(runtime))
        beat.add(beats.ESCALATION, escalation_probe(runtime, engine))
        caller = stack.enter_context(planned_calls_running(runtime))
        beat.add(beats.PLANNED_CALLS, beats.progress_probe(
            lambda: caller.progressed_at, quiet_allowed(runtime, settings.calls.sweep_interval_s)))
        progress = stack.enter_context(campaigns_running(runtime))
        beat.add(beats.CAMPAIGNS, beats.progress_probe(
            lambda: progress.at, quiet_allowed(runtime, campaign_sweep.IDLE_SECONDS)))
        # Once a day: ended enrolments past their retention lose their personal data.
        stack.enter_context(privacy_running(runtime))
    # Every process watches the beats, so a silent part is noticed while any process lives.
    stack.enter_context(self_watch_running(runtime))
    if role in ("all", "web"):
        server = start_web(runtime, host, port, threads)
        stack.callback(server.stop)


def start_web(runtime: Runtime, host, port, threads):
    """The console, API and webhooks on waitress, started on a thread of their own."""
    from telecare.commands.webserver import WebServer
    from web import create_app

    return WebServer(create_app(runtime), host or runtime.settings.web.host,
                     port or runtime.settings.web.port, threads).start()


def _stop_on_signals() -> threading.Event:
    """Set on the first SIGTERM or Ctrl-C, from the very start (a stop asked during start-up
    is honoured once started). A second Ctrl-C ends the process at once (someone at the
    terminal is in a hurry); a second SIGTERM changes nothing: the stop is under way, and a
    supervisor that wants it over sends SIGKILL."""
    stop = threading.Event()

    def handle(signum, _frame) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            if signum == signal.SIGINT:
                log.warning("serve: %s again: ending at once", name)
                os._exit(1)
            log.info("serve: %s again: already stopping", name)
            return
        log.info("serve: %s received", name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop
