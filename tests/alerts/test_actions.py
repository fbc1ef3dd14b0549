"""An operator's call-back request: one pending call, never two for one click each."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from alerts.actions import request_callback
from telecare import alarms
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import AlarmKind, AlarmNotification, NotificationState, Severity
from tests.conftest import NOW
from tests.factories import enrollee_data

OPERATOR = Actor("operatore")


@pytest.fixture
def alarm(session, settings):
    data = read_enrollee(enrollee_data(), NOW.date(), settings.enrolment)
    enrollee = service.enrol(session, data, Actor("giulia"), NOW)
    alarm, _ = alarms.raise_alarm(session, enrollee_id=enrollee.id, kind=AlarmKind.BUTTON,
                                  severity=Severity.CRITICAL, now=NOW)
    return alarm


def test_it_queues_one_call_to_the_person_per_request(session, alarm):
    first = request_callback(session, alarm, OPERATOR, NOW)
    second = request_callback(session, alarm, OPERATOR, NOW)
    rows = session.scalars(select(AlarmNotification).where(
        AlarmNotification.id.in_([first, second])).order_by(AlarmNotification.id)).all()
    assert [(n.key, n.target, n.number, n.state) for n in rows] == [
        (f"{alarm.id}:manual:enrollee:voice:1", "enrollee", "+390226145678",
         NotificationState.PENDING),
        (f"{alarm.id}:manual:enrollee:voice:2", "enrollee", "+390226145678",
         NotificationState.PENDING)]
    assert [e.kind for e in alarm.events].count("callback_requested") == 2


def test_a_request_racing_another_gets_a_clear_error_not_a_second_call(session, alarm):
    # What a second operator's click, counted at the same moment, would try to write.
    session.add(AlarmNotification(
        alarm_id=alarm.id, key=f"{alarm.id}:manual:enrollee:voice:1", step=0,
        target="enrollee", channel="voice", number="+390226145678",
        state=NotificationState.PENDING, created_at=NOW, updated_at=NOW))
    session.flush()
    with pytest.raises(ValidationFailed) as refused:
        request_callback(session, alarm, OPERATOR, NOW)
    assert [e.field for e in refused.value.errors] == ["callback"]
    assert session.scalars(select(AlarmNotification.key).where(
        AlarmNotification.alarm_id == alarm.id)).all() == [f"{alarm.id}:manual:enrollee:voice:1"]
