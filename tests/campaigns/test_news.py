from datetime import date

import pytest

from campaigns.geography import shipped_neighbours
from campaigns.heat import HeatCoverage
from campaigns.news import add_news, news_for, weekly_news
from campaigns.scams import read_scam_report, send_scam_warning
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import HeatForecast
from telecare.settings import config_dir
from tests.conftest import NOW
from tests.factories import enrollee_data

TODAY = date(2026, 11, 28)
SOCIAL = Actor("giulia")


def news(**overrides):
    raw = {"kind": "deadline", "municipality": "015146", "title": "Bonus bollette",
           "text": "Domande entro il 15 dicembre allo sportello del Municipio.",
           "valid_until": "2026-12-15"}
    raw.update(overrides)
    return raw


def test_it_names_every_bad_field_of_a_news_item(session):
    with pytest.raises(ValidationFailed) as excinfo:
        add_news(session, {"kind": "gossip", "municipality": "999999",
                           "valid_until": "2026-01-01"}, TODAY, SOCIAL, NOW)
    assert [e.field for e in excinfo.value.errors] == [
        "kind", "municipality", "title", "text", "valid_until"]


def test_it_gives_each_place_its_news_while_valid(session):
    milan = add_news(session, news(), TODAY, SOCIAL, NOW)
    everywhere = add_news(session, news(municipality="", kind="event", title="Vaccini",
                                        valid_until="2026-12-31"), TODAY, SOCIAL, NOW)
    assert news_for(session, "015146", TODAY) == [milan, everywhere]
    assert news_for(session, "015032", TODAY) == [everywhere]
    assert news_for(session, "015146", date(2026, 12, 20)) == [everywhere]


def test_it_composes_the_weekly_calls_news_in_the_persons_language(session, settings):
    data = read_enrollee(enrollee_data(municipality_istat="015146", language="en"),
                         NOW.date(), settings.enrolment)
    person = service.enrol(session, data, SOCIAL, NOW)
    session.add(HeatForecast(city="MILANO", day=TODAY, level=2, issued_on=TODAY,
                             source="manual", updated_at=NOW))
    send_scam_warning(session, read_scam_report(
        {"municipality": "015032", "scam_kind": "fake_relative",
         "message_it": "Attenzione ai falsi nipoti.", "message_en": "Beware of fake grandsons.",
         "valid_until": "2026-12-31"}, TODAY, ["it", "en"], None),
        shipped_neighbours(), None, SOCIAL, NOW)
    add_news(session, news(), TODAY, SOCIAL, NOW)
    session.flush()
    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    lines = weekly_news(session, person, TODAY, coverage, shipped_neighbours(), None)
    assert lines[0].startswith("The Ministry of Health reports for today in Milano an orange")
    assert lines[1] == "Beware of fake grandsons."
    assert lines[2] == ("Bonus bollette. Domande entro il 15 dicembre allo sportello del "
                        "Municipio.")
