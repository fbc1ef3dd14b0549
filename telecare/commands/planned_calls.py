"""The scheduler's planned-call jobs: plan the coming days, ring what is due.

APScheduler runs two short periodic jobs in memory; it holds no business state (the planned
calls and their next_attempt_at are in the database), so several scheduler processes may
run them at once: planning inserts each call once, the sweep claims each call once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from campaigns.districts import load as load_districts
from campaigns.geography import shipped_neighbours
from campaigns.heat import HeatCoverage
from campaigns.news import weekly_news
from telecare.courtesy import planner
from telecare.courtesy.calendar import CallCalendar
from telecare.courtesy.caller import NewsSource, PlannedCaller
from telecare.db import session_scope
from telecare.runtime import Runtime
from telecare.settings import Settings, config_dir
from telecare.telephony.calls import Dialer
from telecare.telephony.twilio_adapter import TwilioTelephony

log = logging.getLogger(__name__)
PLAN_EVERY = timedelta(hours=1)


def campaign_news(settings: Settings) -> NewsSource:
    """This week's heat level, scam warnings and municipal news, as campaigns know them."""
    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    neighbours = shipped_neighbours()
    districts = load_districts(settings.campaigns, neighbours)

    def news(session, enrollee, day):
        return weekly_news(session, enrollee, day, coverage, neighbours, districts)

    return news


def plan_ahead(runtime: Runtime) -> None:
    """Slots for newcomers, the coming days' calls, and none for people who left."""
    settings, now = runtime.settings, runtime.clock.now()
    calendar = CallCalendar.from_settings(settings)
    with session_scope(runtime.sessions) as session:
        cancelled = planner.cancel_for_ended(session, now)
        assigned = planner.assign_slots(session, settings, calendar, now)
        report = planner.plan_calls(session, settings, calendar, calendar.local(now).date(),
                                    settings.calls.plan_days, now)
    created = sum(report.created.values())
    if cancelled or assigned or created:
        log.info("planned calls: %d slots given, %d calls planned, %d cancelled",
                 assigned, created, cancelled)


@contextmanager
def planned_calls_running(runtime: Runtime) -> Iterator[PlannedCaller]:
    """The planning and calling jobs for as long as the block runs."""
    settings = runtime.settings
    dialer = Dialer(settings, runtime.sessions, TwilioTelephony(settings), runtime.clock)
    caller = PlannedCaller(settings, runtime.sessions, dialer, runtime.clock,
                           news=campaign_news(settings))
    # APScheduler logs every run at INFO (every few seconds): our jobs log what they did.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(
        timezone=settings.zone,
        # A run still going when the next is due is skipped, not doubled; after a pause,
        # one run catches up (the sweep itself finds everything overdue).
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    started = datetime.now(settings.zone)
    scheduler.add_job(plan_ahead, "interval", args=(runtime,), id="planned-calls-plan",
                      seconds=PLAN_EVERY.total_seconds(), next_run_time=started)
    scheduler.add_job(caller.run_once, "interval", id="planned-calls-sweep",
                      seconds=settings.calls.sweep_interval_s,
                      next_run_time=started + timedelta(seconds=1))
    scheduler.start()
    try:
        yield caller
    finally:
        caller.stop()  # a sweep under way gives back what it has not dialled yet
        scheduler.shutdown(wait=True)
