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


def test_it_counts_planned_calls_late_ones_and_flagged_buttons(client, session, settings):
    from telecare.models import (
        ButtonCheck,
        CallKind,
        CallMode,
        CallResult,
        PlannedCall,
        PlannedCallState,
    )
    from tests.web.test_enrollees import enrol

    people = [enrol(session, settings) for _ in range(4)]

    def planned(person, state, **extra):
        return PlannedCall(enrollee_id=person.id, kind=extra.pop("kind", CallKind.COURTESY),
                           mode=CallMode.AUTOMATED, occasion=NOW.date(), planned_at=NOW,
                           state=state, created_at=NOW, updated_at=NOW, **extra)

    session.add_all([
        planned(people[0], PlannedCallState.DONE, result=CallResult.WELL,
                completed_at=NOW - timedelta(hours=1), button_check=ButtonCheck.FLAGGED),
        planned(people[1], PlannedCallState.MISSED, result=CallResult.NO_ANSWER,
                completed_at=NOW - timedelta(hours=2)),
        planned(people[2], PlannedCallState.PLANNED,
                next_attempt_at=NOW - timedelta(hours=1)),  # late
        planned(people[3], PlannedCallState.PLANNED, next_attempt_at=NOW),  # due just now
        planned(people[3], PlannedCallState.DONE, kind=CallKind.BIRTHDAY,
                result=CallResult.WELL, completed_at=NOW - timedelta(days=2)),  # too old
    ])
    session.commit()
    found = scrape(client)
    finished = "telecare_planned_calls_finished"
    assert found[(finished, (("kind", "courtesy"), ("result", "well")))] == 1
    assert found[(finished, (("kind", "courtesy"), ("result", "no_answer")))] == 1
    assert (finished, (("kind", "birthday"), ("result", "well"))) not in found
    assert found[("telecare_planned_calls_overdue", ())] == 1
    assert found[("telecare_device_checks_flagged", ())] == 1
