from datetime import timedelta

import pytest
from sqlalchemy import select

from telecare import alarms
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import Alarm, AlarmKind, AlarmState, Outcome, Severity
from tests.conftest import NOW
from tests.factories import enrollee_data

OPERATOR = Actor("operatore1")


@pytest.fixture
def enrollee(session, settings):
    data = read_enrollee(enrollee_data(), NOW.date(), settings.enrolment)
    return service.enrol(session, data, Actor("giulia"), NOW)


def press(session, enrollee, at=NOW, kind=AlarmKind.BUTTON, severity=Severity.CRITICAL):
    return alarms.raise_alarm(session, enrollee_id=enrollee.id, kind=kind, severity=severity,
                              now=at, seq=17)


def timeline(alarm):
    return [e.kind for e in alarm.events]


def test_it_opens_an_alarm_with_its_first_timeline_line(session, enrollee):
    alarm, created = press(session, enrollee)
    session.flush()
    assert created
    assert (alarm.state, alarm.opened_at, alarm.severity) == (
        AlarmState.OPEN, NOW, Severity.CRITICAL)
    assert alarm.events[0].detail == {"severity": "critical", "seq": 17}


def test_it_adds_a_repeat_to_the_open_alarm_instead_of_opening_another(session, enrollee):
    first, _ = press(session, enrollee)
    again, created = press(session, enrollee, at=NOW + timedelta(seconds=20))
    session.flush()
    assert not created and again.id == first.id
    assert timeline(first) == ["opened", "repeated"]
    assert first.last_event_at == NOW + timedelta(seconds=20)
    assert session.scalars(select(Alarm)).all() == [first]


def test_it_keeps_kinds_apart_and_raises_severity_on_repeat(session, enrollee):
    battery, _ = press(session, enrollee, kind=AlarmKind.LOW_BATTERY, severity=Severity.LOW)
    button, _ = press(session, enrollee)
    assert battery.id != button.id
    press(session, enrollee, kind=AlarmKind.LOW_BATTERY, severity=Severity.HIGH)
    assert battery.severity == Severity.HIGH


def test_it_announces_a_new_alarm_only_after_commit(session, enrollee):
    heard = []
    with alarms.alarm_opened.connected_to(lambda alarm_id: heard.append(alarm_id)):
        alarm, _ = press(session, enrollee)
        session.flush()
        assert heard == []
        session.commit()
    assert heard == [alarm.id]


def test_it_acknowledges_once(session, enrollee):
    alarm, _ = press(session, enrollee)
    alarms.acknowledge(session, alarm, OPERATOR, "console", NOW + timedelta(seconds=30))
    assert (alarm.state, alarm.acknowledged_via) == (AlarmState.ACKNOWLEDGED, "console")
    with pytest.raises(ValidationFailed, match="already acknowledged"):
        alarms.acknowledge(session, alarm, Actor("operatore2"), "console", NOW)


def test_it_resolves_with_an_outcome_and_a_note_then_opens_afresh(session, enrollee):
    alarm, _ = press(session, enrollee)
    with pytest.raises(ValidationFailed) as excinfo:
        alarms.resolve(session, alarm, OPERATOR, "maybe", " ", NOW)
    assert [e.field for e in excinfo.value.errors] == ["outcome", "note"]
    alarms.resolve(session, alarm, OPERATOR, Outcome.FALSE_ALARM, "Premuto per errore", NOW)
    session.flush()
    assert alarm.state == AlarmState.RESOLVED
    assert timeline(alarm) == ["opened", "acknowledged", "resolved"]
    second, created = press(session, enrollee, at=NOW + timedelta(hours=1))
    assert created and second.id != alarm.id


def test_it_records_a_self_clearing_condition_but_leaves_it_to_an_operator(session, enrollee):
    alarm, _ = press(session, enrollee, kind=AlarmKind.DEVICE_OFFLINE, severity=Severity.HIGH)
    alarms.clear(session, alarm, NOW + timedelta(minutes=5), "device back online")
    alarms.clear(session, alarm, NOW + timedelta(minutes=6), "device back online")
    assert alarm.cleared_at == NOW + timedelta(minutes=5)
    assert alarm.state == AlarmState.OPEN
    assert timeline(alarm) == ["opened", "cleared"]
