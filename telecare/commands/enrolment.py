"""`telecare import enrollees` and `telecare seed` (being written)."""

import click


@click.group("import")
def import_() -> None:
    """Bulk imports."""


@click.command()
def seed() -> None:
    """Fake enrollees for demos and benchmarks."""
