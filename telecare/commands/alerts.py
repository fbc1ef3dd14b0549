"""`telecare alerts`: the escalation engine on its own, and the policies it would apply."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from alerts.engine import Engine
from alerts.messages import PhoneSender
from alerts.policy import load_book, policies_path
from telecare import beats
from telecare.alarms import alarm_opened
from telecare.commands.liveness import beating, quiet_allowed
from telecare.commands.startup import start_logging
from telecare.commands.waiting import wait_for_stop
from telecare.runtime import Runtime
from telecare.telephony.calls import Dialer
from telecare.telephony.sms import Messenger
from telecare.telephony.twilio_adapter import TwilioTelephony


@contextmanager
def escalation_running(runtime: Runtime) -> Iterator[Engine]:
    """The engine and its senders for as long as the block runs; new alarms wake it."""
    settings = runtime.settings
    telephony = TwilioTelephony(settings)
    sender = PhoneSender(Dialer(settings, runtime.sessions, telephony, runtime.clock),
                         Messenger(settings, runtime.sessions, telephony, runtime.clock))
    try:
        engine = Engine(runtime, sender)
    except ValueError as exc:  # the policies file is missing or wrong: say which line
        raise click.ClickException(str(exc)) from None
    engine.start()
    # An alarm opened in this process (the bridge, the web console) is taken up at once.
    alarm_opened.connect(engine.wake)
    try:
        yield engine
    finally:
        alarm_opened.disconnect(engine.wake)
        engine.stop()


@click.group("alerts")
def alerts_group() -> None:
    """Escalation: the engine that walks each alarm up its ladder."""


@alerts_group.command("run")
@click.pass_obj
def run(runtime) -> None:
    """Run the escalation engine alone (the web console and the bridge run elsewhere)."""
    start_logging(runtime)
    with beating(runtime) as beat, escalation_running(runtime) as engine:
        beat.add(beats.ESCALATION, escalation_probe(runtime, engine))
        click.echo(f"escalation engine running (policies: {policies_path(runtime.settings)}); "
                   "Ctrl-C stops")
        wait_for_stop()


def escalation_probe(runtime: Runtime, engine: Engine) -> beats.Probe:
    """Alive while the engine's deciding loop finishes its rounds (every sweep interval)."""
    return beats.progress_probe(
        lambda: engine.progressed_at,
        quiet_allowed(runtime, runtime.settings.alerts.sweep_interval_ms / 1000))


@alerts_group.command("policies")
@click.pass_obj
def policies(runtime) -> None:
    """Check the policies file and print each kind's ladder (the file's, before edits)."""
    try:
        book = load_book(runtime.settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for kind, policy in book.policies.items():
        ladder = " → ".join(f"{s.action}" + (f" ({s.timeout_s}s)" if s.timeout_s else "")
                            for s in policy.steps)
        click.echo(f"{kind}: {ladder}; time box {policy.time_box_minutes} min, "
                   f"acknowledgement timeout {policy.ack_timeout_minutes} min"
                   + (", quiet at night" if policy.quiet_hours else ""))
        service = book.service_for(kind)
        click.echo(f"    emergency: {service.name} {service.number}")
