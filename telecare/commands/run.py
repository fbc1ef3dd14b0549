"""`telecare serve` and `telecare demo` (being written)."""

import click


@click.command()
def serve() -> None:
    """Run the service."""


@click.command()
def demo() -> None:
    """Run the demo."""
