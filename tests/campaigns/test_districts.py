import csv

import pytest
from click.testing import CliRunner

from campaigns.districts import load, place_enrollees, recipients_by_district
from campaigns.geography import shipped_neighbours
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.settings import CampaignSettings
from tests.conftest import NOW
from tests.factories import enrollee_data

MILANO = "015146"
DUOMO = ("45.4642", "9.1900")  # Municipio 1
NIGUARDA = ("45.5180", "9.1900")  # Municipio 9
BAGGIO = ("45.4620", "9.0900")  # Municipio 7


@pytest.fixture(scope="module")
def settings_files(shared_data):
    return CampaignSettings(
        districts_file=str(shared_data / "milano" /
                           "abahgat__zone_decentramento_municipi.geojson"),
        boundaries_file=str(shared_data / "geo" / "limits_P_15_municipalities.geojson"))


@pytest.fixture(scope="module")
def milan(settings_files):
    return load(settings_files, shipped_neighbours())


def test_it_finds_the_municipio_of_an_address_from_its_coordinates(milan):
    assert milan.municipi.numbers == list(range(1, 10))
    assert milan.municipi.at(45.4642, 9.1900) == 1
    assert milan.municipi.at(45.5180, 9.1900) == 9
    assert milan.municipi.at(45.4620, 9.0900) == 7
    assert milan.municipi.at(45.5845, 9.2744) is None  # Monza


def test_it_knows_which_municipi_touch(milan, shared_data):
    lines = (shared_data / "milano" / "derived_municipi_adjacency.csv").read_text().splitlines()
    reference = {(int(r["municipio_a"]), int(r["municipio_b"])) for r in csv.DictReader(lines)}
    found = {(a, b) for a, others in milan.adjacent.items() for b in others if a < b}
    # The reference samples shared vertices and misses Municipi 1 and 2, whose borders run
    # together for some 620 m within 10 m of each other in the same file.
    assert found == reference | {(1, 2)}
    assert milan.adjacent[1] == set(range(2, 10))


def test_it_knows_which_neighbouring_municipalities_each_municipio_borders(milan):
    everyone = set().union(*milan.bordering.values())
    assert everyone == shipped_neighbours().of(MILANO)  # all 23, each along some Municipio
    assert milan.bordering[1] == set()  # the centre touches no other municipality
    assert milan.bordering[9] == {"015032", "015086", "015157", "015209"}  # Bresso, Cormano...


def test_it_targets_a_municipio_with_its_neighbours(milan):
    districts, municipalities = milan.area(9)
    assert districts == {9, 1, 2, 8}
    assert "015032" in municipalities  # Bresso
    assert milan.area(9, with_neighbours=False) == ({9}, set())


def test_it_places_enrollees_and_counts_recipients_by_municipio(session, settings, milan):
    def enrol(where, municipality=MILANO):
        lat, lon = where if where else ("", "")
        data = read_enrollee(enrollee_data(municipality_istat=municipality, latitude=lat,
                                           longitude=lon), NOW.date(), settings.enrolment)
        return service.enrol(session, data, Actor("giulia"), NOW)

    centre, north, west, nowhere = enrol(DUOMO), enrol(NIGUARDA), enrol(BAGGIO), enrol(None)
    session.flush()
    assert place_enrollees(session, milan) == (3, 1)
    session.expire_all()
    assert [e.district for e in (centre, north, west, nowhere)] == [1, 9, 7, None]
    assert recipients_by_district(session, milan, {9, 1, 2, 8}) == {1: 1, 9: 1, None: 1}


def test_it_prints_a_municipios_recipients(tmp_path, settings_files):
    from telecare.cli import telecare

    env = {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": "",
           "TELECARE_CAMPAIGNS_DISTRICTS_FILE": settings_files.districts_file,
           "TELECARE_CAMPAIGNS_BOUNDARIES_FILE": settings_files.boundaries_file}
    runner = CliRunner()
    assert runner.invoke(telecare, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(telecare, ["campaigns", "district-targets", "--district", "9"],
                           env=env)
    assert result.exit_code == 0, result.output
    assert "015032  Bresso" in result.output
    assert result.output.splitlines()[-1].startswith("0 enrollees; 0 more in the city")
    missing = runner.invoke(telecare, ["campaigns", "district-targets", "--district", "12"],
                            env=env)
    assert "--district: no district 12 (there are 1, 2, 3, 4, 5, 6, 7, 8, 9)" in missing.output
    unset = runner.invoke(telecare, ["campaigns", "place-districts"],
                          env={"TELECARE_DATA_DIR": str(tmp_path)})
    assert "campaigns.districts_file is not set" in unset.output
