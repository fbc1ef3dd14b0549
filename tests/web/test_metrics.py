"""/metrics: what Prometheus reads, straight from the database at scrape time."""

from __future__ import annotations

import math
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from alerts import history
from telecare.models import (
    Alarm,
    AlarmKind,
    AlarmState,
    CallAttempt,
    CallOutcome,
    Device,
    DeviceState,
    Severity,
)
from telecare.settings import WebSettings
from tests.conftest import NOW
from web import create_app


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


def test_it_counts_from_the_database(client, session, users):
    s = history.Seeded
    op = users[list(users)[0]].id
    history.seed(session, [s(NOW - timedelta(hours=2), 30, op, "console"),
                           s(NOW - timedelta(hours=3), 60, op, "console"),
                           s(NOW - timedelta(hours=4), 120, None, "voice"),
                           s(NOW - timedelta(hours=30), 500, op, "console")])  # a day before
    session.add_all([
        Alarm(kind=AlarmKind.FALL, severity=Severity.CRITICAL, state=AlarmState.OPEN,
              opened_at=NOW - timedelta(minutes=1), last_event_at=NOW),
        Alarm(kind=AlarmKind.LOW_BATTERY, severity=Severity.LOW, state=AlarmState.OPEN,
              opened_at=NOW - timedelta(hours=1), last_event_at=NOW),
        Device(serial="OFF-1", state=DeviceState.ACTIVE, created_at=NOW,
               offline_since=NOW - timedelta(minutes=5)),
        Device(serial="ON-1", state=DeviceState.ACTIVE, created_at=NOW, last_seen_at=NOW),
        CallAttempt(to_number="+390200000001", purpose="courtesy", script="courtesy",
                    outcome=CallOutcome.CONFIRMED, created_at=NOW - timedelta(hours=1),
                    updated_at=NOW),
        CallAttempt(to_number="+390200000002", purpose="courtesy", script="courtesy",
                    created_at=NOW - timedelta(minutes=1), updated_at=NOW),
        CallAttempt(to_number="+390200000003", purpose="courtesy", script="courtesy",
                    outcome=CallOutcome.NO_ANSWER, created_at=NOW - timedelta(days=2),
                    updated_at=NOW),
    ])
    session.commit()
    found = scrape(client)
    assert found[("telecare_alarms_open", (("kind", "fall"), ("severity", "critical")))] == 1
    assert found[("telecare_alarms_open", (("kind", "low_battery"), ("severity", "low")))] == 1
    assert found[("telecare_alarms_open", (("kind", "button"), ("severity", "critical")))] == 0
    # Last 24 h of alarm calls: 30 s, 60 s, 120 s and the fall nobody has taken yet.
    assert found[("telecare_alarm_calls_last_24h", ())] == 4
    assert found[("telecare_alarms_acknowledged_within_60s_ratio", ())] == 0.5
    assert found[("telecare_alarms_acknowledged_within_180s_ratio", ())] == 0.75
    bucket = "telecare_alarm_acknowledge_seconds_bucket"
    assert [found[(bucket, (("le", le),))] for le in ("30", "60", "180", "+Inf")] == [
        1, 2, 3, 3]
    assert found[("telecare_alarm_acknowledge_seconds_sum", ())] == 210
    assert found[("telecare_devices_offline", ())] == 1
    assert found[("telecare_calls", (("outcome", "confirmed"),))] == 1
    assert found[("telecare_calls", (("outcome", "pending"),))] == 1
    assert found[("telecare_calls", (("outcome", "no_answer"),))] == 0
    assert found[("telecare_campaign_deliveries", (("state", "queued"),))] == 0


def test_it_says_nan_rather_than_a_share_of_nothing(client):
    found = scrape(client)
    assert math.isnan(found[("telecare_alarms_acknowledged_within_60s_ratio", ())])


def test_a_token_closes_it(runtime):
    settings = runtime.settings
    runtime.settings = settings.replace(web=WebSettings(secret_key="k", metrics_token="s3cret"))
    app = create_app(runtime, {"TESTING": True})
    with app.test_client() as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}
                          ).status_code == 401
        assert ("telecare_devices_offline", ()) in scrape(client, Authorization="Bearer s3cret")
