"""`telecare campaigns`: who a warning would reach."""

from __future__ import annotations

import click

from campaigns.geography import recipients_by_municipality, shipped_neighbours, target_area
from telecare.db import session_scope
from telecare.enrolment.municipalities import lookup


@click.group()
def campaigns() -> None:
    """Heat and scam warnings: targeting."""


@campaigns.command()
@click.option("--municipality", "istat", required=True, help="ISTAT code, e.g. 015146.")
@click.option("--no-neighbours", is_flag=True, help="Only the municipality itself.")
@click.option("--corners", is_flag=True,
              help="Also municipalities that touch it at a single point.")
@click.pass_obj
def targets(runtime, istat: str, no_neighbours: bool, corners: bool) -> None:
    """Count the active enrollees a warning for a municipality would reach, by municipality."""
    place = lookup(istat)
    if place is None:
        raise click.ClickException(f"--municipality: {istat} is not in the ISTAT list")
    neighbours = shipped_neighbours()
    if not no_neighbours and not neighbours.covers(place.istat):
        raise click.ClickException(
            f"--municipality: no boundary data for {place.name} ({place.istat}); derive a "
            "neighbours table for its region with scripts/derive_neighbours.py")
    area = target_area(place.istat, neighbours, with_neighbours=not no_neighbours,
                       corners=corners)
    with session_scope(runtime.sessions) as session:
        counts = recipients_by_municipality(session, area)
    rows = sorted(((lookup(code).name if lookup(code) else code), code, counts.get(code, 0))
                  for code in area)
    for name, code, count in rows:
        marker = "*" if code == place.istat else " "
        click.echo(f"{marker} {code}  {name:40} {count:7}")
    click.echo(f"{sum(c for _, _, c in rows)} enrollees in {len(rows)} municipalities "
               f"({place.name} {'alone' if no_neighbours else 'and its neighbours'})")
