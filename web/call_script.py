"""What the operator reads on a planned call: greeting, questions, this week's news, the
alarm-button test, goodbye. In the person's language when the console speaks it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from campaigns import districts as city_districts
from campaigns.geography import shipped_neighbours
from campaigns.heat import HeatCoverage
from campaigns.news import weekly_news
from telecare.models import CallKind, Enrollee, PlannedCall, Sex
from telecare.settings import config_dir
from web.db import runtime
from web.labels import LANGUAGES

A_MONDAY = date(2024, 1, 1)


@dataclass
class Script:
    language: str  # the language the lines are written in
    greeting: str
    opening: str
    questions: list[str] = field(default_factory=list)
    news_intro: str = ""
    news: list[str] = field(default_factory=list)
    button: str = ""
    goodbye: str = ""

    @property
    def language_name(self) -> str:
        return LANGUAGES.get(self.language, self.language)


def coverage() -> HeatCoverage:
    """Read once per app: the cities with heat bulletins do not change while it runs."""
    found = current_app.extensions.get("telecare.heat_coverage")
    if found is None:
        found = current_app.extensions["telecare.heat_coverage"] = HeatCoverage.from_toml(
            config_dir() / "heat.toml")
    return found


def news_lines(session: Session, enrollee: Enrollee, day: date) -> list[str]:
    """The same news the automated call would read: heat, scams nearby, municipal news."""
    neighbours = shipped_neighbours()
    districts = city_districts.load(runtime().settings.campaigns, neighbours)
    return weekly_news(session, enrollee, day, coverage(), neighbours, districts)


def script_for(planned: PlannedCall, operator: str, news: list[str]) -> Script:
    enrollee = planned.enrollee
    spoken = [str(code) for code in current_app.config["LANGUAGES"]]
    language = enrollee.language if enrollee.language in spoken else str(get_locale())
    with force_locale(language):
        return _script(planned, enrollee, operator, news, language)


def _script(planned: PlannedCall, enrollee: Enrollee, operator: str, news: list[str],
            language: str) -> Script:
    if enrollee.sex == Sex.FEMALE:
        greeting = _("Hello Mrs %(name)s, this is %(operator)s from the city's telecare "
                     "service.", name=enrollee.last_name, operator=operator)
    else:
        greeting = _("Hello Mr %(name)s, this is %(operator)s from the city's telecare "
                     "service.", name=enrollee.last_name, operator=operator)
    openings = {
        CallKind.COURTESY: _("I am calling for our weekly chat: how are you this week?"),
        CallKind.REASSURANCE: _("I am calling after your recent alarm, to hear how you are "
                                "now. Is everything all right at home?"),
        CallKind.BIRTHDAY: _("Happy birthday! Everyone at the telecare service wishes you a "
                             "wonderful day. How are you celebrating?"),
    }
    questions = [
        _("How have you been feeling? Any pain, falls or dizziness?"),
        _("Are you eating and sleeping well? Do you have the medicines you need?"),
        _("Have you been out, or has anyone come to see you?"),
        _("Do you need anything: shopping, a visit, help from social services?"),
    ]
    if planned.kind == CallKind.BIRTHDAY:
        questions = questions[-1:]
    if enrollee.call_weekday is not None:
        # The weekday as the language writes it in a sentence ("lunedì", "Monday").
        day = format_date(A_MONDAY + timedelta(days=enrollee.call_weekday), "EEEE")
        goodbye = _("Thank you. We will call you again next %(day)s. Remember: whatever you "
                    "need, day or night, press the button.", day=day)
    else:
        goodbye = _("Thank you. We will call you again next week. Remember: whatever you need, "
                    "day or night, press the button.")
    return Script(
        language=language, greeting=greeting, opening=openings[planned.kind],
        questions=questions,
        news_intro=_("This week's news for you:") if news else _("No news for this week."),
        news=news,
        button=_("Now, please press the button of your alarm pendant, so we can check that it "
                 "works."),
        goodbye=goodbye,
    )
