"""`telecare privacy`: erasure after the retention, one person's data on request; the daily job.

APScheduler runs the erasure once a day in memory; it holds no business state (who is due is
read from the enrollees' end dates and erased_at), so a missed day is caught up by the next
run, and two scheduler processes never erase one person twice (erasure claims the row).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from telecare.actor import Actor
from telecare.db import begin_writing, session_scope
from telecare.errors import ValidationFailed
from telecare.models import Enrollee
from telecare.privacy import erasure
from telecare.privacy.export import export as export_document
from telecare.privacy.export import to_json
from telecare.runtime import Runtime

log = logging.getLogger(__name__)


@click.group("privacy")
def privacy_group() -> None:
    """Data protection: erasure after the retention ([privacy] retention_days), exports."""


@privacy_group.command("erase-due")
@click.option("--dry-run", is_flag=True,
              help="Only list who is due and who waits for an alarm: erase nothing.")
@click.pass_obj
def erase_due(runtime: Runtime, dry_run: bool) -> None:
    """Erase the personal data of every enrolment ended more than retention_days ago.

    Their alarms and planned calls stay, anonymised, for the statistics. A person with an
    alarm not yet resolved waits until it is. The scheduler does this daily by itself.
    """
    privacy, now = runtime.settings.privacy, runtime.clock.now()
    with session_scope(runtime.sessions) as session:
        due = erasure.due(session, privacy, now)
        held = erasure.held(session, privacy, now)
        ended = dict(session.execute(select(Enrollee.id, Enrollee.state_changed_at)
                                     .where(Enrollee.id.in_(due))).all())
    if dry_run:
        for enrollee_id in due:
            click.echo(f"record {enrollee_id}: ended {ended[enrollee_id].date().isoformat()}, "
                       "due for erasure")
    for waiting in held:
        click.echo(f"record {waiting.enrollee_id}: due since {waiting.due_at.date().isoformat()}"
                   f", waits for alarm {', '.join(map(str, waiting.alarm_ids))} to be resolved")
    if dry_run:
        click.echo(f"dry run: nothing erased; {len(due)} due, {len(held)} waiting "
                   f"(retention {privacy.retention_days} days after the end)")
        return
    erased = erasure.erase_due(runtime.sessions, runtime.settings, now, Actor.cli())
    click.echo(f"erased the personal data of {erased} ended enrolments; {len(held)} waiting "
               f"(retention {privacy.retention_days} days after the end)")


@privacy_group.command("erase")
@click.argument("enrollee_id", type=click.IntRange(min=1))
@click.option("--yes", is_flag=True, help="Confirm: the erasure cannot be undone.")
@click.pass_obj
def erase_one(runtime: Runtime, enrollee_id: int, yes: bool) -> None:
    """Erase one ended enrolment now, before its retention: a request under GDPR art. 17.

    For the data-protection officer, once they have decided that nothing requires the data
    to be kept. Only an ended enrolment can be erased, and none with an alarm unresolved.
    """
    if not yes:
        raise click.ClickException("the erasure cannot be undone: add --yes to confirm")
    with session_scope(runtime.sessions) as session:
        begin_writing(session)
        try:
            done = erasure.erase(session, enrollee_id, Actor.cli(), runtime.clock.now(),
                                 on_request=True)
        except ValidationFailed as failed:
            raise click.ClickException(str(failed)) from None
    click.echo(f"record {enrollee_id}: "
               + ("personal data erased" if done else "was already erased, nothing to do"))


@privacy_group.command("export")
@click.argument("enrollee_id", type=click.IntRange(min=1))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=None, help="Write the JSON here (default: standard output).")
@click.pass_obj
def export(runtime: Runtime, enrollee_id: int, output: Path | None) -> None:
    """Everything held about one person, as JSON: a request under GDPR art. 15 or 20.

    The export is written to the audit log. The file holds health data: hand it over as
    securely as the record itself.
    """
    with session_scope(runtime.sessions) as session:
        try:
            document = export_document(session, enrollee_id, Actor.cli(), runtime.clock.now(),
                                       runtime.settings.privacy)
        except ValidationFailed as failed:
            raise click.ClickException(str(failed)) from None
    text = to_json(document)
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"record {enrollee_id}: exported to {output}", err=True)


@contextmanager
def privacy_running(runtime: Runtime) -> Iterator[BackgroundScheduler]:
    """The daily erasure, at [privacy] erase_at local time, for as long as the block runs."""
    settings = runtime.settings
    hour, minute = (int(part) for part in settings.privacy.erase_at.split(":"))

    def run() -> None:
        try:
            erasure.erase_due(runtime.sessions, settings, runtime.clock.now())
        except Exception:
            log.exception("privacy: the daily erasure failed; it runs again tomorrow")

    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(
        timezone=settings.zone,
        # A run still going is not doubled; a day missed while the process was down is
        # caught up by the next run (it finds everything due since), so no grace is needed
        # beyond a few hours for a process that was paused.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600})
    scheduler.add_job(run, "cron", id="privacy-erase-due", hour=hour, minute=minute)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=True)
