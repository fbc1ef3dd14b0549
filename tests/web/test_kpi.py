"""The supervisor's answer-time page and its JSON: the figures of a seeded history."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts import history
from telecare.models import Role
from tests.web.conftest import bearer

ROME = ZoneInfo("Europe/Rome")


def seed(session, users) -> list[history.Seeded]:
    """Two weeks up to yesterday (the test clock is 28 November), 40 alarm calls a day."""
    operators = [users[Role.OPERATOR].id, users[Role.SUPERVISOR].id]
    first = datetime(2026, 11, 14, tzinfo=ROME).astimezone(UTC)
    planned = history.plan(random.Random(7), first, days=14, per_day=40,
                           operator_ids=operators)
    history.seed(session, planned)
    session.commit()
    return planned


def shares(planned) -> tuple[int, int]:
    return (sum(1 for p in planned if p.seconds <= 60),
            sum(1 for p in planned if p.seconds <= 180))


def test_the_page_shows_the_seeded_shares_against_60_and_180_seconds(client, login, session,
                                                                       users):
    planned = seed(session, users)
    within_60, within_180 = shares(planned)
    login(Role.SUPERVISOR)
    page = client.get("/kpi?from=2026-11-14&until=2026-11-27",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    total = len(planned)
    assert f"{within_60 / total * 100:.1f} %".replace(".", ",") in page  # Italian decimals
    assert f"{within_180 / total * 100:.1f} %".replace(".", ",") in page
    assert "97,5 %" in page and "99,0 %" in page
    assert "<svg" in page and "<polyline" in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "Operator Test" in page and "Supervisor Test" in page
    assert "Tempi di risposta" in page


def test_a_day_short_of_the_standard_is_marked(client, login, session, users):
    planned = seed(session, users)
    by_day: dict = {}
    for item in planned:
        by_day.setdefault(item.opened_at.astimezone(ROME).date(), []).append(item.seconds)

    def share(day):
        return sum(1 for s in by_day[day] if s <= 60) / len(by_day[day])

    short = next(day for day in sorted(by_day) if share(day) < 0.975)
    good = next(day for day in sorted(by_day) if share(day) >= 0.975
                and all(s <= 180 for s in by_day[day]) and share(day) < 1)
    login(Role.ADMIN)
    for day, marked in ((short, True), (good, False)):
        page = client.get(f"/kpi?from={day}&until={day}").get_data(as_text=True)
        day_table = page[page.index('id="days-h"'):]  # the operators' rows may fall short
        assert ('class="badge state-ended"' in day_table) is marked


def test_the_page_defaults_to_the_last_30_days_and_names_wrong_dates(client, login):
    login(Role.SUPERVISOR)
    page = client.get("/kpi").get_data(as_text=True)
    assert 'value="2026-10-30"' in page and 'value="2026-11-28"' in page
    page = client.get("/kpi?from=yesterday").get_data(as_text=True)
    assert 'id="from-error"' in page


def test_operators_and_social_workers_do_not_see_it(client, login):
    login(Role.OPERATOR)
    assert client.get("/kpi").status_code == 403


def test_the_json_holds_the_same_figures(client, session, users, tokens):
    planned = seed(session, users)
    within_60, within_180 = shares(planned)
    response = client.get("/api/v1/kpi/answer-times?from=2026-11-14&until=2026-11-27",
                          headers=bearer(tokens[Role.SUPERVISOR]))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["total"]["count"] == len(planned)
    assert (body["total"]["within_60s"], body["total"]["within_180s"]) == (within_60, within_180)
    assert body["total"]["share_within_60s"] == round(within_60 / len(planned), 6)
    assert body["targets"] == {"share_within_60s": 0.975, "share_within_180s": 0.99}
    assert len(body["days"]) == 14 and sum(d["count"] for d in body["days"]) == len(planned)
    names = {row["name"] for row in body["by"]}
    assert {"Operator Test", "Supervisor Test"} <= names
    assert sum(row["count"] for row in body["by"]) == len(planned)


def test_the_json_refuses_a_bad_range_and_other_roles(client, tokens, users):
    bad = client.get("/api/v1/kpi/answer-times?from=2026-11-30&until=2026-11-01",
                     headers=bearer(tokens[Role.ADMIN]))
    assert bad.status_code == 400 and bad.get_json()["error"] == "bad_request"
    kinds = client.get("/api/v1/kpi/answer-times?kinds=coffee",
                       headers=bearer(tokens[Role.ADMIN]))
    assert kinds.status_code == 400
    refused = client.get("/api/v1/kpi/answer-times", headers=bearer(tokens[Role.OPERATOR]))
    assert refused.status_code == 403


def test_the_last_30_days_by_default_in_json(client, tokens, users):
    body = client.get("/api/v1/kpi/answer-times", headers=bearer(tokens[Role.ADMIN])).get_json()
    assert (body["from"], body["until"], body["total"]["count"]) == (
        "2026-10-30", "2026-11-28", 0)
    assert body["total"]["share_within_60s"] is None
    assert timedelta(days=29) == (datetime.fromisoformat(body["until"])
                                  - datetime.fromisoformat(body["from"]))


def test_the_chart_dates_the_first_and_last_day_and_never_prints_two_dates_over_each_other():
    from web.kpi_chart import label_days

    # A month, as the page opens: the last regular date (28/11) would touch the last (29/11).
    assert label_days(30) == [0, 4, 8, 12, 16, 20, 24, 29]
    assert label_days(31) == [0, 4, 8, 12, 16, 20, 24, 28, 30]
    assert label_days(7) == list(range(7))
    assert label_days(1) == [0] and label_days(0) == []
    for count in range(2, 400):
        chosen = label_days(count)
        every = max(1, round(count / 8))
        assert chosen[0] == 0 and chosen[-1] == count - 1
        assert min(b - a for a, b in itertools.pairwise(chosen)) >= every / 2, count
