"""The `telecare` command. Part of the composition root: it may import every package."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from telecare.commands import (
    alerts,
    calls,
    campaigns,
    db,
    demo,
    enrolment,
    privacy,
    run,
    telephony,
    users,
)
from telecare.commands import devices as device_commands
from telecare.runtime import Runtime
from telecare.settings import SettingsError, load_settings


class TelecareGroup(click.Group):
    """Every subcommand's database failure said in one line, not as a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            # Most often a database never upgraded (no tables) or one that is not reachable.
            raise click.ClickException(f"database: {str(exc.orig).strip()} (is it reachable, "
                                       "and has `telecare db upgrade` been run?)") from None


@click.group(cls=TelecareGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def telecare(ctx: click.Context) -> None:
    """Telecare: alarm buttons, weekly courtesy calls and warnings for elderly people."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    ctx.obj = Runtime(settings)
    ctx.call_on_close(ctx.obj.close)


for command in (db.db, users.users, enrolment.import_, enrolment.seed, run.serve, demo.demo,
                campaigns.campaigns, telephony.phone_sim, alerts.alerts_group, calls.calls_group,
                privacy.privacy_group):
    telecare.add_command(command)
# `devices` is also the bridge's top-level package: the click groups carry a suffix.
telecare.add_command(device_commands.devices_group)
telecare.add_command(device_commands.simulate_group)


def main() -> None:
    sys.exit(telecare.main(prog_name="telecare"))


if __name__ == "__main__":
    main()
