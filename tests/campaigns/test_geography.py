import csv

import pytest
from click.testing import CliRunner

from campaigns.boundaries import neighbours as derive
from campaigns.geography import (
    read_neighbours,
    recipients_by_municipality,
    shipped_neighbours,
    target_area,
)
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from tests.conftest import NOW
from tests.factories import enrollee_data

MILANO, BRESSO = "015146", "015032"
# The 23 municipalities bordering Milan, as listed with the reference data (SOURCES.md).
MILAN_NEIGHBOURS = {
    "Arese", "Assago", "Baranzate", "Bollate", "Bresso", "Buccinasco", "Cesano Boscone",
    "Cologno Monzese", "Cormano", "Corsico", "Cusago", "Novate Milanese", "Opera", "Pero",
    "Peschiera Borromeo", "Rho", "Rozzano", "San Donato Milanese", "Segrate",
    "Sesto San Giovanni", "Settimo Milanese", "Trezzano sul Naviglio", "Vimodrone",
}


def names(codes):
    from telecare.enrolment.municipalities import lookup

    return {lookup(code).name for code in codes}


def test_it_finds_milans_23_neighbours_and_bressos_5():
    neighbours = shipped_neighbours()
    assert names(neighbours.of(MILANO)) == MILAN_NEIGHBOURS
    assert len(neighbours.of(BRESSO)) == 5
    assert MILANO in neighbours.of(BRESSO)


def test_it_targets_a_municipality_with_or_without_its_neighbours():
    neighbours = shipped_neighbours()
    assert len(target_area(MILANO, neighbours)) == 24
    assert target_area("15146", neighbours, with_neighbours=False) == {MILANO}


def test_it_leaves_corner_contacts_out_unless_asked():
    neighbours = shipped_neighbours()
    corner_only = next(code for code, others in neighbours.point.items() if others)
    plain = target_area(corner_only, neighbours)
    with_corners = target_area(corner_only, neighbours, corners=True)
    assert neighbours.point[corner_only] <= with_corners
    assert not neighbours.point[corner_only] & plain


def test_it_derives_the_same_table_as_the_reference_from_the_boundaries(shared_data):
    import json

    topology = json.loads(
        (shared_data / "geo" / "limits_R_3_municipalities.topo.json").read_text())
    derived = {(a, b, kind) for a, _, b, _, kind in derive(topology)}
    with open(shared_data / "adjacency" / "lombardia_2023_adjacency.csv") as reference:
        expected = {(r["istat_a"], r["istat_b"], r["contact"])
                    for r in csv.DictReader(reference)}
    assert derived == expected
    assert sum(1 for *_, kind in derived if kind == "edge") == 4263


def test_it_reads_a_neighbours_table_with_its_attribution_line():
    table = read_neighbours([
        "# derived, CC BY 4.0\n", "istat_a,name_a,istat_b,name_b,contact\n",
        "000001,A,000002,B,edge\n", "000001,A,000003,C,point\n"])
    assert table.of("1") == {"000002"}
    assert table.of("000003", corners=True) == {"000001"}


@pytest.fixture
def enrolled(session, settings):
    def enrol(istat, **overrides):
        data = read_enrollee(enrollee_data(municipality_istat=istat, **overrides), NOW.date(),
                             settings.enrolment)
        return service.enrol(session, data, Actor("giulia"), NOW)

    return enrol


def test_it_counts_active_recipients_by_municipality(session, enrolled):
    from telecare.models import EnrolleeState

    enrolled(BRESSO)
    enrolled(MILANO)
    gone = enrolled(MILANO)
    service.change_state(session, gone, EnrolleeState.SUSPENDED, "ricovero", Actor("g"), NOW)
    enrolled("015027")  # Bollate: Milan's neighbour, not Bresso's
    session.flush()
    counts = recipients_by_municipality(session, target_area(BRESSO, shipped_neighbours()))
    assert counts == {BRESSO: 1, MILANO: 1}


def test_it_prints_the_recipients_by_municipality(tmp_path):
    from telecare.cli import telecare

    env = {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": ""}
    runner = CliRunner()
    assert runner.invoke(telecare, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(telecare, ["campaigns", "targets", "--municipality", BRESSO],
                           env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "0 enrollees in 6 municipalities (Bresso and its neighbours)")
    alone = runner.invoke(telecare, ["campaigns", "targets", "--municipality", BRESSO,
                                     "--no-neighbours"], env=env)
    assert alone.output.splitlines()[-1] == "0 enrollees in 1 municipalities (Bresso alone)"
    unknown = runner.invoke(telecare, ["campaigns", "targets", "--municipality", "999999"],
                            env=env)
    assert unknown.exit_code == 1
    assert "--municipality: 999999 is not in the ISTAT list" in unknown.output
