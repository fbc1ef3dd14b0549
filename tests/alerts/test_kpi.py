"""Answer-time figures on a known history: shares, days in Rome, operators, percentiles."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts import history, kpi
from telecare.actor import Actor
from telecare.models import Alarm, AlarmKind, AlarmState, Role, Severity
from telecare.users import create_user

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def operators(session) -> tuple[int, int]:
    made = [create_user(session, name, full, Role.OPERATOR, "correct horse battery",
                        Actor.system(), NOW)
            for name, full in (("bianca", "Bianca Rossi"), ("carlo", "Carlo Verdi"))]
    session.flush()
    return made[0].id, made[1].id


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ROME).astimezone(UTC)


def open_alarm(session, opened: datetime, kind=AlarmKind.BUTTON) -> None:
    session.add(Alarm(kind=kind, severity=Severity.CRITICAL, state=AlarmState.OPEN,
                      opened_at=opened, last_event_at=opened))
    session.flush()


def known_history(session) -> tuple[int, int]:
    """Two days in Rome: the 26th, 20 alarms; the 27th, 10 and one nobody took yet."""
    bianca, carlo = operators(session)
    s = history.Seeded
    items = [s(local(26, 9) + timedelta(minutes=n), 20 + n, bianca, "console")
             for n in range(17)]  # 20..36 s
    items += [s(local(26, 10), 60, carlo, "console"),  # exactly 60 s is within 60 s
              s(local(26, 11), 150, carlo, "console"),
              s(local(26, 23, 30), 400, None, "voice")]  # 22:30 UTC: still the 26th in Rome
    items += [s(local(27, 0, 30), 40, None, "sms"),  # 23:30 UTC on the 26th: the 27th here
              s(local(27, 8), 61, None, "enrollee")]
    items += [s(local(27, 9) + timedelta(minutes=n), 30, bianca, "console") for n in range(8)]
    history.seed(session, items)
    open_alarm(session, local(27, 12))
    open_alarm(session, local(27, 13), AlarmKind.LOW_BATTERY)  # not an alarm call
    session.flush()
    return bianca, carlo


def test_it_counts_shares_per_day_in_the_services_zone(session):
    known_history(session)
    found = kpi.report(session, ROME, date(2026, 11, 26), date(2026, 11, 27))
    (day1, first), (day2, second) = found.days
    assert (day1, first.count, first.within_60, first.within_180) == (date(2026, 11, 26),
                                                                      20, 18, 19)
    assert (first.share_60, first.share_180) == (0.9, 0.95)
    assert (day2, second.count, second.acknowledged, second.within_60, second.within_180) == (
        date(2026, 11, 27), 11, 10, 9, 10)
    assert found.total.count == 31 and found.total.within_60 == 27
    assert found.total.meets_60 is False


def test_it_names_operators_and_groups_the_others(session):
    bianca, carlo = known_history(session)
    found = kpi.report(session, ROME, date(2026, 11, 26), date(2026, 11, 27))
    rows = {who.key: (who.name, figures.count, figures.within_60, figures.within_180)
            for who, figures in found.by_who}
    assert rows == {
        f"user:{bianca}": ("Bianca Rossi", 25, 25, 25),
        f"user:{carlo}": ("Carlo Verdi", 2, 1, 2),
        kpi.CONTACT_VOICE: ("", 1, 0, 0),
        kpi.CONTACT_SMS: ("", 1, 1, 1),
        kpi.ENROLLEE: ("", 1, 0, 1),
        kpi.UNACKNOWLEDGED: ("", 1, 0, 0),
    }
    assert [who.key for who, _ in found.by_who][:2] == [f"user:{bianca}", f"user:{carlo}"]


def test_it_gives_the_median_and_90th_percentile_of_acknowledged_alarms(session):
    known_history(session)
    day1 = kpi.report(session, ROME, date(2026, 11, 26), date(2026, 11, 26)).days[0][1]
    # 20..36, 60, 150, 400: the middle pair is 29 and 30; the 18th of 20 is 60.
    assert (day1.median_s, day1.p90_s) == (29.5, 60.0)


def test_it_can_count_every_kind(session):
    known_history(session)
    found = kpi.report(session, ROME, date(2026, 11, 27), date(2026, 11, 27), kinds=())
    assert found.total.count == 12


def test_it_refuses_an_empty_or_endless_range(session):
    with pytest.raises(ValueError):
        kpi.report(session, ROME, date(2026, 11, 27), date(2026, 11, 26))
    with pytest.raises(ValueError):
        kpi.report(session, ROME, date(2025, 1, 1), date(2026, 11, 26))


def test_it_shows_exactly_what_a_random_history_holds(session):
    bianca, carlo = operators(session)
    rng = random.Random(5)
    first = datetime(2026, 11, 1, tzinfo=ROME).astimezone(UTC)
    planned = history.plan(rng, first, days=14, per_day=50, operator_ids=[bianca, carlo])
    history.seed(session, planned, rng=rng)
    found = kpi.report(session, ROME, date(2026, 11, 1), date(2026, 11, 14))
    within_60 = sum(1 for item in planned if item.seconds <= 60)
    within_180 = sum(1 for item in planned if item.seconds <= 180)
    assert (found.total.count, found.total.within_60, found.total.within_180) == (
        700, within_60, within_180)
    assert 0.9 < found.total.share_60 < 1 and within_60 < within_180 < 700
    assert sum(f.count for _, f in found.by_who) == 700


def test_it_summarises_the_last_day_for_the_metrics(session):
    known_history(session)
    figures, times = kpi.window(session, local(27, 0), local(28, 0))
    assert (figures.count, figures.within_60, len(times)) == (11, 9, 10)
