"""The campaign loop: send what is due, follow what was sent, close what is finished."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.delivery import Sender, SweepReport, deliver_due, finish_if_done
from campaigns.heat import HeatCoverage
from campaigns.heat_campaigns import plan_heat_day
from campaigns.phone import follow_outcomes
from telecare.clock import Clock
from telecare.db import begin_writing
from telecare.models import Campaign, CampaignState
from telecare.settings import CampaignSettings

log = logging.getLogger(__name__)
IDLE_SECONDS = 5.0


@dataclass
class Tick:
    sent: SweepReport
    followed: int
    finished: int


def tick(sessions: sessionmaker[Session], sender: Sender, settings: CampaignSettings,
         zone: ZoneInfo, now: datetime, coverage: HeatCoverage | None = None,
         languages: list[str] | None = None) -> Tick:
    """One pass; safe to run in several processes at once."""
    if coverage is not None:
        # Today's heat warnings and checks, made once whatever the number of passes.
        with sessions() as session:
            begin_writing(session)
            try:
                plan_heat_day(session, coverage, now.astimezone(zone).date(), now,
                              languages or ["it"])
                session.commit()
            except IntegrityError:
                session.rollback()  # another process made them a moment ago
    sent = deliver_due(sessions, sender, settings, zone, now)
    with sessions() as session:
        begin_writing(session)
        followed = follow_outcomes(session, settings, now)
        finished = sum(finish_if_done(session, campaign) for campaign in session.scalars(
            select(Campaign).where(Campaign.state == CampaignState.QUEUED)))
        session.commit()
    return Tick(sent, followed, finished)


def run(sessions: sessionmaker[Session], sender: Sender, settings: CampaignSettings,
        zone: ZoneInfo, clock: Clock, stop: threading.Event,
        coverage: HeatCoverage | None = None, languages: list[str] | None = None) -> None:
    """Loop until `stop` is set; a failing pass is logged and the loop goes on."""
    while not stop.is_set():
        try:
            result = tick(sessions, sender, settings, zone, clock.now(), coverage, languages)
        except Exception:
            log.exception("campaign sweep failed; trying again shortly")
            stop.wait(IDLE_SECONDS)
            continue
        busy = result.sent.sent or result.sent.retried or result.followed
        if busy:
            log.info("campaigns: sent %d, retried %d, failed %d, outcomes %d, finished %d",
                     result.sent.sent, result.sent.retried, result.sent.failed,
                     result.followed, result.finished)
        stop.wait(0 if result.sent.sent else IDLE_SECONDS)
