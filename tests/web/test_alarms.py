"""The operators' alarm queue: the list, an alarm's card, each action, the live stream."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from telecare import alarms
from telecare.actor import Actor
from telecare.models import (
    Alarm,
    AlarmKind,
    AlarmNotification,
    AlarmState,
    AuditEntry,
    Device,
    DeviceCommand,
    DeviceState,
    Role,
    Severity,
)
from tests.conftest import NOW
from tests.web.test_enrollees import enrol


def open_alarm(session, enrollee=None, kind=AlarmKind.BUTTON, severity=Severity.CRITICAL,
               at=NOW, device=None) -> Alarm:
    alarm, _ = alarms.raise_alarm(session, enrollee_id=enrollee.id if enrollee else None,
                                  kind=kind, severity=severity, now=at,
                                  device_id=device.id if device else None)
    session.commit()
    return alarm


@pytest.fixture
def person(session, settings):
    return enrol(session, settings)


@pytest.fixture
def pendant(session, person):
    device = Device(serial="PND-Q1", enrollee_id=person.id, state=DeviceState.ACTIVE,
                    battery=81, last_seen_at=NOW, created_at=NOW)
    session.add(device)
    session.commit()
    return device


def audited(session, alarm_id: int) -> list[str]:
    return session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "alarm", AuditEntry.entity_id == alarm_id)
        .order_by(AuditEntry.id)).all()


def test_it_lists_open_alarms_worst_and_oldest_first(client, login, session, settings):
    people = [enrol(session, settings) for _ in range(4)]
    low = open_alarm(session, people[0], AlarmKind.LOW_BATTERY, Severity.LOW,
                     NOW - timedelta(minutes=30))
    old_fall = open_alarm(session, people[1], AlarmKind.FALL, Severity.CRITICAL,
                          NOW - timedelta(seconds=95))
    new_button = open_alarm(session, people[2], AlarmKind.BUTTON, Severity.CRITICAL,
                            NOW - timedelta(seconds=5))
    taken = open_alarm(session, people[3], AlarmKind.BUTTON, Severity.CRITICAL,
                       NOW - timedelta(minutes=10))
    alarms.acknowledge(session, taken, Actor("someone"), "console", NOW)
    session.commit()
    login(Role.OPERATOR)
    page = client.get("/alarms").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'data-alarm-id="(\d+)"', page)]
    assert order == [old_fall.id, new_button.id, low.id, taken.id]
    assert 'data-opened="' in page and ">95</span>" in page  # its age in seconds
    assert people[1].last_name in page and "Caduta rilevata" in page


def test_it_shows_the_card_ladder_timeline_and_audits_the_view(client, login, session,
                                                              person, pendant):
    alarm = open_alarm(session, person, device=pendant)
    alarm.ladder = [{"action": "queue", "timeout_s": 30, "targets": []},
                    {"action": "contacts", "timeout_s": 90,
                     "targets": [{"name": "Anna Verdi"}]},
                    {"action": "emergency", "timeout_s": None, "targets": []}]
    alarm.step, alarm.next_step_at = 1, NOW + timedelta(seconds=90)
    alarms.add_note(session, alarm, Actor("someone"), "Sente male a un braccio", NOW)
    session.commit()
    login(Role.OPERATOR)
    response = client.get(f"/alarms/{alarm.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for expected in ("Via Padova 10, piano 3", "Milano", "Diabete di tipo 2",
                     "Citofono Rossi", 'href="tel:+393331234567"', "Ha le chiavi",
                     "PND-Q1", "81%", "Anna Verdi", 'aria-current="step"',
                     "Allarme aperto", "Nota: Sente male a un braccio"):
        assert expected in page, expected
    assert page.index("Anna Verdi") < page.index("Paolo Rossi")  # contacts in ladder order
    assert "Emergenza" not in page  # the emergency step has not come yet
    from telecare.models import AuditEntry as Entry
    assert session.scalars(select(Entry.action).where(
        Entry.entity_type == "enrollee", Entry.entity_id == person.id)).all()[-1] == "view"


def test_it_shows_the_emergency_script_once_escalated(client, login, session, person):
    alarm = open_alarm(session, person)
    alarm.escalated_at = NOW
    session.commit()
    login(Role.OPERATOR)
    page = client.get(f"/alarms/{alarm.id}").get_data(as_text=True)
    assert "Emergenza: chiama" in page and 'href="tel:112"' in page
    assert "Anna Verdi +393331234567" in page  # the key holder, for the dispatcher


def test_it_lets_an_operator_claim_and_release(client, login, session, person, users):
    alarm = open_alarm(session, person)
    login(Role.OPERATOR)
    response = client.post(f"/alarms/{alarm.id}/claim")
    assert response.status_code == 302
    session.refresh(alarm)
    assert alarm.claimed_by_id == users[Role.OPERATOR].id
    assert "Operator Test" in client.get("/alarms").get_data(as_text=True)
    client.post(f"/alarms/{alarm.id}/release")
    session.refresh(alarm)
    assert alarm.claimed_by_id is None
    assert audited(session, alarm.id) == ["claim", "release"]


def test_two_operators_cannot_both_claim(app, client, login, session, person, users):
    alarm = open_alarm(session, person)
    login(Role.OPERATOR)
    assert client.post(f"/alarms/{alarm.id}/claim").status_code == 302
    with app.test_client() as other:
        login(Role.SUPERVISOR, other)
        response = other.post(f"/alarms/{alarm.id}/claim")
        assert response.status_code == 409
        assert "un altro operatore" in response.get_data(as_text=True)
        taking = other.post(f"/alarms/{alarm.id}/acknowledge")
        assert taking.status_code == 409
        resolving = other.post(f"/alarms/{alarm.id}/resolve",
                               data={"outcome": "false_alarm", "resolution": "x"})
        assert resolving.status_code == 409 and "Operator Test" in resolving.get_data(
            as_text=True)
    session.refresh(alarm)
    assert alarm.claimed_by_id == users[Role.OPERATOR].id
    assert alarm.state == AlarmState.OPEN
    assert audited(session, alarm.id) == ["claim"]


def test_taking_charge_stops_the_ladder_and_tells_the_device(client, login, session, person,
                                                            pendant, users):
    alarm = open_alarm(session, person, device=pendant)
    login(Role.OPERATOR)
    response = client.post(f"/alarms/{alarm.id}/acknowledge")
    assert response.status_code == 302
    session.refresh(alarm)
    assert alarm.state == AlarmState.ACKNOWLEDGED and alarm.acknowledged_via == "console"
    assert alarm.claimed_by_id == users[Role.OPERATOR].id
    [command] = session.scalars(select(DeviceCommand).where(
        DeviceCommand.device_id == pendant.id)).all()
    assert (command.command, command.fields) == ("help_coming", {"alarm": alarm.id})
    assert audited(session, alarm.id) == ["acknowledge"]
    page = client.get(f"/alarms/{alarm.id}").get_data(as_text=True)
    assert "Presa in carico" in page


def test_it_queues_a_call_back_to_the_person(client, login, session, person):
    alarm = open_alarm(session, person)
    login(Role.OPERATOR)
    assert client.post(f"/alarms/{alarm.id}/callback").status_code == 302
    [call] = session.scalars(select(AlarmNotification).where(
        AlarmNotification.alarm_id == alarm.id)).all()
    assert (call.target, call.number) == ("enrollee", "+390226145678")
    assert audited(session, alarm.id) == ["callback"]


def test_it_adds_a_note_and_names_the_field_when_it_is_empty(client, login, session, person):
    alarm = open_alarm(session, person)
    login(Role.OPERATOR)
    empty = client.post(f"/alarms/{alarm.id}/note", data={"note": "  "})
    assert empty.status_code == 422
    assert "Nota: è obbligatorio" in empty.get_data(as_text=True)
    assert client.post(f"/alarms/{alarm.id}/note",
                       data={"note": "Richiamata la figlia"}).status_code == 302
    page = client.get(f"/alarms/{alarm.id}").get_data(as_text=True)
    assert "Richiamata la figlia" in page
    assert audited(session, alarm.id) == ["note"]


def test_it_resolves_with_an_outcome_and_a_note(client, login, session, person):
    alarm = open_alarm(session, person)
    login(Role.OPERATOR)
    missing = client.post(f"/alarms/{alarm.id}/resolve", data={"outcome": "", "resolution": ""})
    assert missing.status_code == 422
    text = missing.get_data(as_text=True)
    assert "Esito: scegline uno" in text and "Nota: è obbligatorio" in text
    session.refresh(alarm)
    assert alarm.state == AlarmState.OPEN
    done = client.post(f"/alarms/{alarm.id}/resolve",
                       data={"outcome": "false_alarm", "resolution": "Premuto per sbaglio"})
    assert done.status_code == 302 and done.headers["Location"] == "/alarms"
    session.refresh(alarm)
    assert alarm.state == AlarmState.RESOLVED and alarm.outcome_note == "Premuto per sbaglio"
    assert alarm.first_acknowledged_at == NOW
    assert audited(session, alarm.id) == ["resolve"]
    assert f'data-alarm-id="{alarm.id}"' not in client.get("/alarms").get_data(as_text=True)
    history = client.get("/alarms/resolved?outcome=false_alarm").get_data(as_text=True)
    assert person.last_name in history and "Falso allarme" in history
    assert person.last_name not in client.get(
        "/alarms/resolved?outcome=doctor").get_data(as_text=True)


def test_it_serves_the_list_and_the_panel_for_the_live_page(client, login, session, person):
    alarm = open_alarm(session, person)
    login(Role.SUPERVISOR)
    rows = client.get(f"/alarms/list?selected={alarm.id}").get_data(as_text=True)
    assert rows.startswith('<div id="alarm-list"') and "selected" in rows
    panel = client.get(f"/alarms/{alarm.id}/panel?refresh=1").get_data(as_text=True)
    assert panel.lstrip().startswith("<article") and "<html" not in panel


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER])
def test_it_keeps_social_services_out_of_the_queue(client, login, session, person, role):
    alarm = open_alarm(session, person)
    login(role)
    assert client.get("/alarms").status_code == 403
    assert client.post(f"/alarms/{alarm.id}/acknowledge").status_code == 403
    assert 'href="/alarms"' not in client.get("/").get_data(as_text=True)


def test_it_points_an_operator_home_to_the_queue(client, login, session, person):
    open_alarm(session, person)
    login(Role.OPERATOR)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/alarms"' in page and "1 allarme aspetta" in page


def test_the_stream_sends_an_event_when_an_alarm_opens(app, client, login, session, person):
    app.config.update(ALARM_STREAM_POLL_S=0.01, ALARM_STREAM_SECONDS=30)
    login(Role.OPERATOR)
    response = client.get("/alarms/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)

    def next_event() -> str:
        for _ in range(500):
            chunk = next(chunks)
            chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
            if chunk.startswith("event: alarms"):
                return chunk
        raise AssertionError("no event")

    first = next_event()
    alarm = open_alarm(session, person)
    second = next_event()
    assert first != second and f'"alarm": {alarm.id}' in second
    response.close()  # the client goes away: the generator ends and frees its slot
    slots = app.extensions["telecare.alarm_streams"]
    assert all(slots.acquire(blocking=False) for _ in range(4))


def test_it_turns_streams_away_when_every_slot_is_taken(app, client, login):
    app.config.update(ALARM_STREAMS_MAX=1, ALARM_STREAM_POLL_S=0.01)
    login(Role.OPERATOR)
    held = client.get("/alarms/stream", buffered=False)
    next(iter(held.response))
    busy = client.get("/alarms/stream").get_data(as_text=True)
    assert busy == "retry: 30000\n\n"
    held.close()
