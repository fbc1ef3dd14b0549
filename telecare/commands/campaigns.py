"""`telecare campaigns`: who a warning would reach."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click

from campaigns import sweep as campaign_sweep
from campaigns.cap import CapRefused
from campaigns.cap_store import receive, warn_from
from campaigns.districts import load as load_districts
from campaigns.districts import place_enrollees, recipients_by_district
from campaigns.geography import recipients_by_municipality, shipped_neighbours, target_area
from campaigns.heat import HeatCoverage, import_bulletin
from campaigns.phone import TelephonySender
from telecare import beats
from telecare.clock import Clock
from telecare.commands.startup import start_logging
from telecare.db import session_scope
from telecare.enrolment.municipalities import lookup
from telecare.runtime import Runtime
from telecare.settings import config_dir
from telecare.telephony.calls import Dialer
from telecare.telephony.sms import Messenger
from telecare.telephony.twilio_adapter import TwilioTelephony

log = logging.getLogger(__name__)


@click.group()
def campaigns() -> None:
    """Heat and scam warnings: targeting, bulletins."""


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


@campaigns.command("import-heat")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.pass_obj
def import_heat(runtime, file) -> None:
    """Import a heat-wave bulletin in onData's CSV format (the latest extraction wins)."""
    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    with session_scope(runtime.sessions) as session:
        report = import_bulletin(session, file, coverage, runtime.clock.now())
    for error in report.errors[:50]:
        click.echo(str(error), err=True)
    if len(report.errors) > 50:
        click.echo(f"... and {len(report.errors) - 50} more errors", err=True)
    click.echo(report.summary())


@campaigns.command("import-cap")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def import_cap(runtime, files) -> None:
    """Import CAP 1.2 alerts (an Update replaces its Alert, a Cancel withdraws it)."""
    refused = 0
    for path in files:
        with open(path, "rb") as fh:
            document = fh.read()
        try:
            with session_scope(runtime.sessions) as session:
                received = receive(session, document, runtime.clock.now())
                campaign = warn_from(session, received, runtime.clock.now())
                tail = f"; warning {campaign.id} queued" if campaign is not None else ""
                click.echo(f"{path}: {received.summary()}{tail}")
        except CapRefused as exc:
            refused += 1
            click.echo(f"{path}: refused: {exc}", err=True)
    if refused:
        raise click.exceptions.Exit(1)


@campaigns.command("place-districts")
@click.pass_obj
def place_districts(runtime) -> None:
    """Place the city's enrollees in its districts (Municipi) from their coordinates."""
    districts = _districts(runtime)
    with session_scope(runtime.sessions) as session:
        placed, unplaced = place_enrollees(session, districts)
    click.echo(f"{placed} enrollees placed in a district, {unplaced} without coordinates "
               "inside the city")


@campaigns.command("district-targets")
@click.option("--district", "number", type=int, required=True, help="e.g. 9 for Municipio 9")
@click.option("--no-neighbours", is_flag=True, help="Only the district itself.")
@click.pass_obj
def district_targets(runtime, number: int, no_neighbours: bool) -> None:
    """Count the active enrollees a warning for one district would reach."""
    districts = _districts(runtime)
    try:
        numbers, others = districts.area(number, with_neighbours=not no_neighbours)
    except KeyError:
        raise click.ClickException(f"--district: no district {number} (there are "
                                   f"{', '.join(map(str, districts.municipi.numbers))})") from None
    with session_scope(runtime.sessions) as session:
        by_district = recipients_by_district(session, districts, numbers)
        by_municipality = recipients_by_municipality(session, others)
    total = 0
    for district in sorted(numbers):
        count = by_district.get(district, 0)
        total += count
        click.echo(f"{'*' if district == number else ' '} district {district:<34} {count:7}")
    for code in sorted(others):
        count = by_municipality.get(code, 0)
        total += count
        click.echo(f"  {code}  {lookup(code).name:38} {count:7}")
    click.echo(f"{total} enrollees; {by_district.get(None, 0)} more in the city have no "
               "district (no coordinates): reach them by municipality")


def _districts(runtime):
    districts = load_districts(runtime.settings.campaigns, shipped_neighbours())
    if districts is None:
        raise click.ClickException("campaigns.districts_file is not set (TELECARE_CAMPAIGNS_"
                                   "DISTRICTS_FILE): no city districts are configured")
    return districts


@campaigns.command()
@click.option("--once", is_flag=True, help="One pass, then exit (for cron or a test).")
@click.pass_obj
def sweep(runtime, once: bool) -> None:
    """Deliver due warnings through the telephony settings until SIGTERM or Ctrl-C."""
    start_logging(runtime)
    settings = runtime.settings
    sender = _sender(runtime)
    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    languages = settings.enrolment.languages
    if once:
        result = campaign_sweep.tick(runtime.sessions, sender, settings.campaigns,
                                     settings.zone, runtime.clock.now(), coverage, languages)
        click.echo(f"sent {result.sent.sent}, retried {result.sent.retried}, failed "
                   f"{result.sent.failed}, deferred {result.sent.deferred}, outcomes "
                   f"{result.followed}, finished {result.finished}")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        campaign_sweep.run(runtime.sessions, sender, settings.campaigns, settings.zone,
                           runtime.clock, stop, coverage, languages)
    except KeyboardInterrupt:
        stop.set()


def _sender(runtime: Runtime) -> TelephonySender:
    settings = runtime.settings
    telephony = TwilioTelephony(settings)
    return TelephonySender(Dialer(settings, runtime.sessions, telephony, runtime.clock),
                           Messenger(settings, runtime.sessions, telephony, runtime.clock))


class _Progressing:
    """The loop's clock and sender, marking progress as the loop uses them: it reads the
    clock once per pass and the sender once per warning placed, so a long pass of throttled
    calls still shows progress, and a pass stuck anywhere shows none."""

    def __init__(self, clock: Clock, sender: TelephonySender, progress: beats.Progress):
        self.clock, self.sender, self.progress = clock, sender, progress

    def now(self):
        self.progress.mark()
        return self.clock.now()

    def send(self, **message) -> str:
        try:
            return self.sender.send(**message)
        finally:
            self.progress.mark()


@contextmanager
def campaigns_running(runtime: Runtime) -> Iterator[beats.Progress]:
    """The warnings' delivery loop (`campaigns sweep`) on a thread, for the scheduler role.

    Several scheduler processes may run it at once: each pass claims its deliveries. On
    leaving, the pass under way is finished before the block ends.
    """
    settings = runtime.settings
    progress = beats.Progress()
    both = _Progressing(runtime.clock, _sender(runtime), progress)
    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    stop = threading.Event()
    thread = threading.Thread(
        target=campaign_sweep.run, name="campaigns-sweep",
        args=(runtime.sessions, both, settings.campaigns, settings.zone, both, stop, coverage,
              settings.enrolment.languages), daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        started = time.monotonic()
        thread.join(timeout=60)
        if thread.is_alive():
            log.warning("campaigns: the pass under way did not finish in %.0fs",
                        time.monotonic() - started)
