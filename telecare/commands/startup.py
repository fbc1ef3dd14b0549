"""What every long-running `telecare` command does first: logging, from the [log] settings."""

from __future__ import annotations

import click

from telecare import logs
from telecare.runtime import Runtime
from telecare.settings import SettingsError


def start_logging(runtime: Runtime) -> None:
    """Configure logging once, in the format and level of [log]; a bad value stops start-up."""
    try:
        logs.configure(runtime.settings.log)
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
