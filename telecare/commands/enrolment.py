"""`telecare import enrollees` and `telecare seed`."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from telecare.actor import Actor
from telecare.enrolment.importer import import_enrollees, report_csv
from telecare.enrolment.seed import seed_enrollees

# Exit statuses: 0 the file was read (bad rows are in the report), 1 unreadable, 2 bad header.
UNREADABLE, BAD_HEADER = 1, 2


@click.group("import")
def import_() -> None:
    """Bulk imports."""


@import_.command("enrollees")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the errors to this CSV file (row, field, reason).")
@click.pass_context
def enrollees(ctx: click.Context, file: Path, report_path: Path | None) -> None:
    """Enrol the people listed in FILE, a CSV file (comma or semicolon, UTF-8).

    Good rows are imported, bad rows are listed with their row number, field and reason;
    people already enrolled are left unchanged. Columns: docs/import-format.md.
    """
    runtime = ctx.obj
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        click.echo(f"{file}: not UTF-8 text (byte {exc.start}): in Excel use Save as > "
                   "CSV UTF-8", err=True)
        ctx.exit(UNREADABLE)
    except OSError as exc:
        click.echo(f"{file}: {exc.strerror}", err=True)
        ctx.exit(UNREADABLE)
    started = time.perf_counter()
    # The bar's length counts lines, an upper bound of the rows (a cell may span lines).
    with click.progressbar(length=max(text.count("\n"), 1), label="importing",
                           file=sys.stderr) as bar:
        try:
            report = import_enrollees(
                runtime.sessions, io.StringIO(text), Actor.cli(), runtime.clock.now(),
                runtime.settings.enrolment, progress=bar.update, file_name=file.name,
                zone=runtime.settings.zone, calls=runtime.settings.calls)
        except (OperationalError, ProgrammingError) as exc:
            raise click.ClickException(f"database: {exc.orig} (has `telecare db upgrade` "
                                       "been run?)") from None
    elapsed = time.perf_counter() - started
    for error in report.errors:
        click.echo(str(error) if error.row else f"{file}: {error.reason}")
    if report_path is not None:
        report_path.write_text(report_csv(report), encoding="utf-8")
    if report.refused:
        click.echo(f"{file}: nothing imported, correct the header and try again", err=True)
        ctx.exit(BAD_HEADER if any(e.row == 1 for e in report.errors) else UNREADABLE)
    click.echo(f"{report.summary()} in {elapsed:.1f} s")


@click.command()
@click.option("--enrollees", "count", type=click.IntRange(min=0), required=True,
              help="How many people to create.")
@click.option("--seed", type=int, default=None, help="Random seed: the same seed, the same people.")
@click.option("--contacts", type=click.IntRange(min=0, max=10), default=2, show_default=True,
              help="Contacts per person (neighbour with a key, family, the doctor).")
@click.pass_obj
def seed(runtime, count: int, seed: int | None, contacts: int) -> None:
    """Fake enrollees in the Città metropolitana di Milano, for demos and benchmarks."""
    started = time.perf_counter()
    with click.progressbar(length=max(count, 1), label="seeding",
                           file=sys.stderr) as bar:
        try:
            report = seed_enrollees(runtime.sessions, count, Actor.cli(), runtime.clock.now(),
                                    runtime.settings.enrolment, seed=seed, contacts=contacts,
                                    zone=runtime.settings.zone, progress=bar.update)
        except (OperationalError, ProgrammingError) as exc:
            raise click.ClickException(f"database: {exc.orig} (has `telecare db upgrade` "
                                       "been run?)") from None
    elapsed = time.perf_counter() - started
    click.echo(f"seeded {report.enrollees} enrollees, {report.phones} phones, "
               f"{report.contacts} contacts in {elapsed:.1f} s")
