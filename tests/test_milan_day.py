"""bench/milan_day at a tiny scale: 200 people, a morning with its heat wave and its scam.

Keeps the benchmark working as the product changes; it asserts what the table must show,
never how fast (the full run's time is the benchmark's own business).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.own_sqlite
def test_a_small_morning_runs_and_prints_its_kpi_table():
    # 07:00-12:00: the heat bulletin (07:30), the calling day and warnings from 09:00, the
    # scam report (10:30). Steps of 10 s keep it short.
    done = subprocess.run(
        [sys.executable, "-m", "bench.milan_day", "--enrollees", "200", "--start", "07:00",
         "--hours", "5", "--step", "10"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout
    for line in ("acknowledged within 60 s", "acknowledged within 180 s",
                 "median / 90th percentile", "courtesy calls due", "alarms from missed calls",
                 "alarms from unanswered heat checks",
                 "help requested on a call", "fell silent / went offline",
                 "heat_warning: Milano 2026-07-15 (level 3)", "heat_check: Milano",
                 "fake_carabiniere: Milano", "simulated / real time", "under 10 minutes"):
        assert line in table, f"{line!r} missing from:\n{table}"
    assert "webhook errors" not in table
    delivered = [row for row in table.splitlines() if row.strip().startswith("heat_warning")]
    assert "delivered" in delivered[0]  # the warning reached people, not just a queue
