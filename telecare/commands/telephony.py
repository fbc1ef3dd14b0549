"""`telecare phone-sim`: the local Twilio stand-in as a process of its own, for the demo."""

from __future__ import annotations

import click

from telecare.commands.startup import start_logging
from telecare.commands.waiting import wait_for_stop
from telecare.twilio_sim import Behaviour, TwilioSim

# Used when no Twilio account is configured: Twilio's shape ("AC" and 32 hex digits).
DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_AUTH_TOKEN = "stand-in-token"


def _person(text: str) -> tuple[str, Behaviour, list[str]]:
    """NUMBER=BEHAVIOUR[:KEYS], e.g. +390212345678=answer:71 or +390287654321=busy."""
    number, _, rest = text.partition("=")
    behaviour, _, keys = rest.partition(":")
    try:
        return number.strip(), Behaviour(behaviour.strip() or "answer"), list(keys.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected NUMBER=BEHAVIOUR[:KEYS], behaviour one "
                                 f"of {', '.join(b.value for b in Behaviour)}") from None


@click.command("phone-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8099, show_default=True,
              help="Port for the Twilio-compatible API (0: any free port).")
@click.option("--behaviour", type=click.Choice([b.value for b in Behaviour]),
              default="answer", show_default=True, help="What everybody does by default.")
@click.option("--keys", default="1", show_default=True,
              help="Keys everybody presses, one per prompt ('' for silence).")
@click.option("--person", "people", multiple=True, metavar="NUMBER=BEHAVIOUR[:KEYS]",
              help="Script one number, e.g. +390212345678=voicemail (repeatable).")
@click.pass_obj
def phone_sim(runtime, host, port, behaviour, keys, people) -> None:
    """Run the local Twilio stand-in: calls are played to simulated people, nothing leaves."""
    settings = runtime.settings
    start_logging(runtime)
    account = settings.twilio.account_sid or DEMO_ACCOUNT_SID
    token = settings.twilio.auth_token or DEMO_AUTH_TOKEN
    sim = TwilioSim(account, token, host=host, port=port,
                    sms_url=f"{settings.public_url.rstrip('/')}/twilio/sms/inbound",
                    default=Behaviour(behaviour), default_keys=list(keys))
    for text in people:
        number, person_behaviour, person_keys = _person(text)
        sim.person(number, person_behaviour, person_keys)
    sim.start()
    click.echo(f"Twilio stand-in listening on {sim.url}")
    click.echo("Point Telecare at it:")
    click.echo(f"  export TELECARE_TWILIO_API_URL={sim.url}")
    click.echo(f"  export TELECARE_TWILIO_ACCOUNT_SID={account}")
    click.echo(f"  export TELECARE_TWILIO_AUTH_TOKEN={token}")
    click.echo(f"What each person heard: {sim.url}/_sim/calls.json")
    try:
        wait_for_stop()
    finally:
        sim.stop()
