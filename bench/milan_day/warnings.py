"""The day's warnings: a red heat-wave bulletin for Milan, and false carabinieri in Milan.

The bulletin is imported as `telecare campaigns import-heat` imports it (onData's CSV); the
campaign sweep then makes the day's heat warning (everyone its city covers) and check calls
(those living alone) itself, and delivers them from 09:00, when the quiet hours end. The scam
is reported as the console's form reports it (`read_scam_report`, `send_scam_warning`) and
reaches Milan and the municipalities bordering it. Every delivery is a call through the
phone network; the weekly calls read both warnings as this week's news.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bench.milan_day import figures
from bench.milan_day.agenda import Agenda
from campaigns import sweep
from campaigns.delivery import Sender
from campaigns.geography import shipped_neighbours
from campaigns.heat import HeatCoverage, import_bulletin
from campaigns.scams import read_scam_report, send_scam_warning
from telecare.actor import Actor
from telecare.db import begin_writing, session_scope
from telecare.settings import Settings, config_dir

MILAN = "015146"
BULLETIN_CITY = "MILANO"


def bulletin_csv(day: date, levels: tuple[int, ...]) -> str:
    """The onData CSV of one morning's bulletin for Milan: today and the next days."""
    rows = ["citta,data,livello,data_estrazione"]
    rows += [f"{BULLETIN_CITY},{day + timedelta(days=n)},{level},{day}"
             for n, level in enumerate(levels)]
    return "\n".join(rows) + "\n"


class Warnings:
    def __init__(self, agenda: Agenda, sessions: sessionmaker[Session], settings: Settings,
                 sender: Sender, reporter: Actor):
        self.agenda, self.sessions, self.settings, self.sender = (
            agenda, sessions, settings, sender)
        self.reporter = reporter  # the operator who reports the scam
        self.coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
        self.heat_report = None
        self.scam_recipients = 0

    def plan(self, day: date, start: datetime, end: datetime) -> None:
        zone = self.settings.zone
        for moment, action in ((figures.HEAT_BULLETIN_AT, self.import_heat),
                               (figures.SCAM_AT, self.report_scam)):
            at = datetime.combine(day, moment, tzinfo=zone)
            if start <= at < end:
                self.agenda.at(at, action, day)

    def import_heat(self, day: date) -> None:
        with session_scope(self.sessions) as session:
            begin_writing(session)
            self.heat_report = import_bulletin(
                session, io.StringIO(bulletin_csv(day, figures.HEAT_LEVELS)), self.coverage,
                self.agenda.clock.now())

    def report_scam(self, day: date) -> None:
        raw = {"municipality": MILAN, "scam_kind": "fake_carabiniere",
               "message_it": figures.SCAM_MESSAGE, "channel": "voice",
               "with_neighbours": True, "valid_until": (day + timedelta(days=14)).isoformat()}
        report = read_scam_report(raw, day, self.settings.web.languages, None)
        with session_scope(self.sessions) as session:
            begin_writing(session)
            _campaign, self.scam_recipients = send_scam_warning(
                session, report, shipped_neighbours(), None, self.reporter,
                self.agenda.clock.now())

    def sweep(self) -> sweep.Tick:
        """One pass of the campaign loop: today's heat campaigns, sends, outcomes."""
        return sweep.tick(self.sessions, self.sender, self.settings.campaigns,
                          self.settings.zone, self.agenda.clock.now(), self.coverage,
                          self.settings.enrolment.languages)
