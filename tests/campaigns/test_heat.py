import io
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from campaigns.heat import HeatCoverage, actions_for, days_at_least, import_bulletin, levels
from campaigns.heat_campaigns import plan_heat_day
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import Campaign, CampaignDelivery, CampaignKind
from telecare.settings import config_dir
from tests.conftest import NOW
from tests.factories import enrollee_data

HEADER = "citta,data,livello,data_estrazione\n"


@pytest.fixture(scope="module")
def coverage():
    return HeatCoverage.from_toml(config_dir() / "heat.toml")


def bulletin(*rows):
    return io.StringIO(HEADER + "".join(f"{r}\n" for r in rows))


def test_it_finds_milans_heat_wave_of_summer_2024_in_the_archive(session, coverage,
                                                                   shared_data):
    archive = shared_data / "heat" / "ondata__ondate-calore_archivio_2023_2024.csv"
    with archive.open(encoding="utf-8") as stream:
        report = import_bulletin(session, stream, coverage, NOW)
    session.flush()
    assert report.errors == []
    assert report.rows == 9342
    first_wave = [date(2024, 7, 29), date(2024, 7, 30), date(2024, 7, 31), date(2024, 8, 1)]
    assert days_at_least(session, "MILANO", 3, date(2024, 7, 20), date(2024, 8, 10)) == \
        first_wave
    summer = days_at_least(session, "MILANO", 3, date(2024, 6, 1), date(2024, 9, 30))
    assert summer == [*first_wave, date(2024, 8, 13), date(2024, 8, 14), date(2024, 8, 15)]
    # 2024-08-03 was forecast yellow on 1 August, then green on 2 August: the latest wins.
    assert levels(session, "MILANO", date(2024, 8, 3), date(2024, 8, 3)) == {
        date(2024, 8, 3): 0}


def test_it_keeps_the_latest_bulletin_whatever_the_order_of_import(session, coverage):
    import_bulletin(session, bulletin("MILANO,2024-08-03,Livello0,2024-08-02"), coverage, NOW)
    session.flush()
    older = import_bulletin(session, bulletin("MILANO,2024-08-03,Livello1,2024-08-01"),
                            coverage, NOW + timedelta(hours=1))
    assert (older.stored, older.updated, older.unchanged) == (0, 0, 1)
    newer = import_bulletin(session, bulletin("MILANO,2024-08-03,Livello2,2024-08-03"),
                            coverage, NOW + timedelta(hours=2))
    session.flush()
    assert newer.updated == 1
    assert levels(session, "MILANO", date(2024, 8, 3), date(2024, 8, 3)) == {
        date(2024, 8, 3): 2}


def test_it_reports_bad_rows_and_keeps_the_good_ones(session, coverage):
    report = import_bulletin(session, bulletin(
        "MILANO,2024-07-29,Livello3,2024-07-29",
        "GOTHAM,2024-07-29,Livello3,2024-07-29",
        "MILANO,29/07/2024,Livello9,2024-07-29",
    ), coverage, NOW)
    assert [str(e) for e in report.errors] == [
        "row 3: citta: GOTHAM is not a city of the bulletin",
        "row 4: data: 29/07/2024 is not a date (YYYY-MM-DD)",
        "row 4: livello: Livello9 is not a level from 0 to 3",
    ]
    assert report.stored == 1


def test_it_refuses_a_file_without_the_bulletins_columns(session, coverage):
    report = import_bulletin(session, io.StringIO("city,day\nMILANO,2024-07-29\n"), coverage,
                             NOW)
    assert [e.field for e in report.errors] == ["citta", "data", "livello", "data_estrazione"]
    assert report.stored == 0


def test_it_says_which_city_covers_a_municipality(coverage):
    assert coverage.city_for("015146") == "MILANO"
    assert coverage.city_for("015032") == "MILANO"  # Bresso, province of Milan
    assert coverage.city_for("108033") == "MILANO"  # Monza, province of Monza and Brianza
    assert coverage.city_for("017029") == "BRESCIA"
    assert coverage.city_for("058097") == "CIVITAVECCHIA"  # Santa Marinella, on its coast
    assert coverage.city_for("058047") == "ROMA"  # Frascati
    assert coverage.city_for("016024") is None  # Bergamo: no bulletin city covers it
    assert len(coverage.cities) == 27


def test_it_warns_from_orange_and_checks_daily_on_those_alone_at_red():
    assert actions_for(1, lives_alone=True) == set()
    assert actions_for(2, lives_alone=True) == {"warning"}
    assert actions_for(3, lives_alone=False) == {"warning"}
    assert actions_for(3, lives_alone=True) == {"warning", "daily_check"}


def test_it_imports_a_bulletin_from_the_command_line(tmp_path):
    from telecare.cli import telecare

    env = {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": ""}
    file = tmp_path / "bulletin.csv"
    file.write_text(HEADER + "MILANO,2024-07-29,Livello3,2024-07-29\n"
                    "MILANO,2024-07-30,Livello3,2024-07-29\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(telecare, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(telecare, ["campaigns", "import-heat", str(file)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 rows: 2 new days, 0 updated, 0 unchanged, 0 errors"


def test_it_warns_milan_through_the_heat_wave_and_checks_daily_on_those_alone(
        session, settings, coverage, shared_data):
    def enrol(municipality, alone):
        data = read_enrollee(enrollee_data(municipality_istat=municipality, lives_alone=alone),
                             NOW.date(), settings.enrolment)
        return service.enrol(session, data, Actor("giulia"), NOW)

    alone, with_family = enrol("015146", True), enrol("108033", False)  # Milan, Monza
    far_away = enrol("016024", True)  # Bergamo: no bulletin city covers it
    archive = shared_data / "heat" / "ondata__ondate-calore_archivio_2023_2024.csv"
    with archive.open(encoding="utf-8") as stream:
        import_bulletin(session, stream, coverage, NOW)
    session.flush()

    def plan(day):
        return {c.kind: queued for c, queued in
                plan_heat_day(session, coverage, day, NOW, ["it", "en"])
                if c.area_municipality == "015146"}

    assert plan(date(2024, 7, 27)) == {}  # yellow: nothing
    assert plan(date(2024, 7, 28)) == {CampaignKind.HEAT_WARNING: 2}  # orange: a warning
    for day in (date(2024, 7, 29), date(2024, 7, 30), date(2024, 7, 31), date(2024, 8, 1)):
        assert plan(day) == {CampaignKind.HEAT_WARNING: 2, CampaignKind.HEAT_CHECK: 1}
    assert plan(date(2024, 7, 30)) == {}  # planning a day twice makes nothing new
    assert plan(date(2024, 8, 2)) == {}  # yellow again

    checked = session.scalars(
        select(CampaignDelivery.enrollee_id).join(Campaign)
        .where(Campaign.kind == CampaignKind.HEAT_CHECK).distinct()).all()
    assert checked == [alone.id]
    reached = set(session.scalars(select(CampaignDelivery.enrollee_id)))
    assert reached == {alone.id, with_family.id}
    assert far_away.id not in reached
    warning = session.scalars(select(Campaign).where(
        Campaign.dedupe_key == "heat_warning:MILANO:2024-07-29")).one()
    assert warning.messages["it"].startswith(
        "Il Ministero della Salute segnala per oggi a Milano un'ondata di calore, livello rosso")
    assert "heat wave, red level" in warning.messages["en"]
