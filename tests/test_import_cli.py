"""`telecare import enrollees FILE` and `telecare seed --enrollees N` on the command line."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from telecare.commands.enrolment import import_, seed
from telecare.models import Enrollee
from telecare.runtime import Runtime
from tests.conftest import NOW
from tests.test_import import csv_text, person


class FixedClock:
    def now(self):
        return NOW


@pytest.fixture
def runtime(settings, session_factory) -> Runtime:
    runtime = Runtime(settings, clock=FixedClock())
    runtime.__dict__["sessions"] = session_factory  # the test's rolled-back transaction
    return runtime


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Enrollee))


def test_it_prints_each_error_and_a_summary(runner, runtime, session, tmp_path):
    path = tmp_path / "aprile.csv"
    path.write_text(csv_text([person(), person(municipality_istat="999999"), person()]),
                    encoding="utf-8")
    report = tmp_path / "errors.csv"

    result = runner.invoke(import_, ["enrollees", str(path), "--report", str(report)],
                           obj=runtime)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ("row 3: municipality_istat: 999999 is not in the ISTAT list of "
                        "municipalities")
    assert lines[1].startswith("imported 2, unchanged 0, rejected 1 (rows with errors) of 3 "
                               "rows in ")
    assert lines[1].endswith(" s")
    assert list(csv.reader(report.open(encoding="utf-8"))) == [
        ["row", "field", "reason"],
        ["3", "municipality_istat", "999999 is not in the ISTAT list of municipalities"]]
    assert count(session) == 2


def test_it_exits_non_zero_for_a_bad_header(runner, runtime, session, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("nome;cognome\nMaria;Rossi\n", encoding="utf-8")

    result = runner.invoke(import_, ["enrollees", str(path)], obj=runtime)

    assert result.exit_code == 2
    assert "row 1: nome: is not a known column (see docs/import-format.md)" in result.stdout
    assert "row 1: codice_fiscale: is a required column and is missing" in result.stdout
    assert count(session) == 0


def test_it_exits_non_zero_for_a_file_that_is_not_utf8(runner, runtime, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(csv_text([person(last_name="Nicolò")]).encode("latin-1"))

    result = runner.invoke(import_, ["enrollees", str(path)], obj=runtime)

    assert result.exit_code == 1
    assert "not UTF-8" in result.stderr


def test_it_seeds_from_the_command_line(runner, runtime, session):
    result = runner.invoke(seed, ["--enrollees", "12", "--seed", "3", "--contacts", "1"],
                           obj=runtime)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("seeded 12 enrollees, ")
    assert " phones, 12 contacts in " in result.stdout
    assert count(session) == 12
