"""A person with everything the service holds about someone: record, phones, contacts, a
pendant and its events, alarms with timelines, calls and texts, planned calls with notes, a
warning, a number's STOP, audit entries; and a second person who must come out untouched.

The names, numbers and notes are unusual on purpose: the tests look for them in every column
of every table after an erasure, and in an export of the other person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from codicefiscale import codicefiscale

from telecare import alarms
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import (
    AlarmKind,
    AlarmNotification,
    CallAttempt,
    CallKind,
    CallMode,
    CallOutcome,
    CallResult,
    Campaign,
    CampaignDelivery,
    CampaignKind,
    CampaignState,
    DeliveryState,
    Device,
    DeviceEvent,
    DeviceState,
    Enrollee,
    EnrolleeState,
    NotificationState,
    NumberStanding,
    Outcome,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    Severity,
    SmsMessage,
)
from tests.conftest import NOW

SOCIAL_WORKER = Actor("giulia")
OPERATOR = Actor("marco")
# Enrolled two years ago, ended a year and a day ago: with the default 365 days, due today.
ENROLLED = NOW - timedelta(days=730)
ENDED = NOW - timedelta(days=366)


@dataclass
class Person:
    enrollee_id: int
    # Everything that names, reaches or describes them; none may survive the erasure.
    secrets: list[str]
    numbers: list[str]
    alarm_ids: list[int]
    device_id: int
    planned_call_id: int


def _e164(number: str) -> str:
    return "+39" + number.replace(" ", "")


def make_person(session, settings, *, first: str, last: str, street: str, phone: str,
                mobile: str, contact: str, contact_phone: str, health: str, note: str,
                serial: str, born: date = date(1938, 4, 17), sex: str = "F",
                ended: datetime = ENDED) -> Person:
    raw = {
        "first_name": first, "last_name": last, "sex": sex, "birth_date": born.isoformat(),
        "codice_fiscale": codicefiscale.encode(lastname=last, firstname=first, gender=sex,
                                               birthdate=born.isoformat(), birthplace="F205"),
        "language": "it", "address_street": street, "address_postal_code": "20127",
        "address_floor": "3", "municipality_istat": "015146", "latitude": "45.49",
        "longitude": "9.22", "lives_alone": True, "health_notes": health,
        "access_notes": f"Citofono {last}, chiave da {contact}",
        "consent_date": "2024-11-01", "consent_note": f"Firmato dal nipote di {first}",
        "phones": [{"number": phone, "kind": "landline"}, {"number": mobile, "kind": "mobile"}],
        "contacts": [{"name": contact, "relation": "neighbour", "phone": contact_phone,
                      "holds_key": True, "can_sms": True, "notes": f"{contact} ha le chiavi"}],
    }
    data = read_enrollee(raw, ENROLLED.date(), settings.enrolment)
    enrollee = service.enrol(session, data, SOCIAL_WORKER, ENROLLED)
    session.flush()
    numbers = [_e164(phone), _e164(mobile), _e164(contact_phone)]
    person_number, contact_number = numbers[0], numbers[2]
    full_name = enrollee.full_name

    device = Device(serial=serial, enrollee_id=enrollee.id, state=DeviceState.ACTIVE,
                    created_at=ENROLLED)
    session.add(device)
    session.flush()

    # A press 45 s from a contact's "1": the ladder called the neighbour and texted her.
    pressed = ENROLLED + timedelta(days=30)
    alarm, _ = alarms.raise_alarm(session, enrollee_id=enrollee.id, kind=AlarmKind.BUTTON,
                                  severity=Severity.CRITICAL, now=pressed, device_id=device.id,
                                  serial=serial, seq=1)
    session.add(DeviceEvent(device_id=device.id, seq=1, type="alarm", received_at=pressed,
                            alarm_id=alarm.id))
    alarm.ladder = [{"action": "contacts", "timeout_s": 90, "targets": [{
        "target": f"contact-{enrollee.contacts[0].id}", "name": contact,
        "relation": "neighbour", "number": contact_number, "language": "it",
        "channels": ["voice", "sms"]}]}]
    call = CallAttempt(to_number=contact_number, purpose="escalation", script="alarm_contact",
                       params={"name": full_name, "code": alarm.code}, status="completed",
                       digits="1", outcome=CallOutcome.CONFIRMED, created_at=pressed,
                       updated_at=pressed)
    text = SmsMessage(direction="outbound", number=contact_number, purpose="escalation",
                      body=f"Allarme per {full_name}: rispondi OK {alarm.code}",
                      status="delivered", created_at=pressed, updated_at=pressed)
    session.add_all([call, text])
    session.flush()
    for channel, record in (("voice", {"call_attempt_id": call.id}), ("sms", {"sms_id": text.id})):
        session.add(AlarmNotification(
            alarm_id=alarm.id, key=f"{alarm.id}:0:contact:{channel}:1", step=0,
            target=f"contact-{enrollee.contacts[0].id}", name=contact, channel=channel,
            number=contact_number, state=NotificationState.SENT, created_at=pressed,
            updated_at=pressed, **record))
    alarms.record(session, alarm, "step", pressed, step=0, action="contacts", to=[contact])
    alarms.record(session, alarm, "call", pressed, to=contact, number=contact_number,
                  notification=1)
    alarms.record(session, alarm, "key_pressed", pressed + timedelta(seconds=45), to=contact,
                  digits="1", notification=1)
    alarms.acknowledge(session, alarm, Actor(f"contact:{contact}"), "voice",
                       pressed + timedelta(seconds=45), contact=contact)
    alarms.add_note(session, alarm, OPERATOR, f"{contact} dice che {first} era caduta",
                    pressed + timedelta(minutes=5))
    alarms.resolve(session, alarm, OPERATOR, Outcome.CONTACT_ATTENDED,
                   f"{first} sta bene, {health}", pressed + timedelta(minutes=10))

    # A fall taken in charge by an operator after 100 s.
    fell = ENROLLED + timedelta(days=60)
    fall, _ = alarms.raise_alarm(session, enrollee_id=enrollee.id, kind=AlarmKind.FALL,
                                 severity=Severity.CRITICAL, now=fell, device_id=device.id,
                                 serial=serial, seq=2)
    alarms.acknowledge(session, fall, OPERATOR, "console", fell + timedelta(seconds=100))
    alarms.resolve(session, fall, OPERATOR, Outcome.FALSE_ALARM, "Premuto per sbaglio",
                   fell + timedelta(minutes=3))

    # The weekly call, answered, with the operator's note, and one still planned.
    weekly = ENROLLED + timedelta(days=7)
    weekly_call = CallAttempt(to_number=person_number, purpose="courtesy", script="courtesy",
                              params={"name": full_name}, status="completed", digits="1",
                              outcome=CallOutcome.CONFIRMED, created_at=weekly,
                              updated_at=weekly)
    session.add(weekly_call)
    session.flush()
    planned = PlannedCall(enrollee_id=enrollee.id, kind=CallKind.COURTESY,
                          mode=CallMode.OPERATOR, occasion=weekly.date(), planned_at=weekly,
                          state=PlannedCallState.DONE, attempts=1, result=CallResult.CONCERN,
                          call_attempt_id=weekly_call.id, completed_at=weekly,
                          created_at=weekly, updated_at=weekly)
    planned.log.append(PlannedCallLog(attempt=1, at=weekly, result=CallResult.CONCERN,
                                      note=note, call_attempt_id=weekly_call.id,
                                      detail=f"answered on {person_number}"))
    later = PlannedCall(enrollee_id=enrollee.id, kind=CallKind.COURTESY, mode=CallMode.OPERATOR,
                        occasion=(ended + timedelta(days=3)).date(),
                        planned_at=ended + timedelta(days=3),
                        next_attempt_at=ended + timedelta(days=3),
                        state=PlannedCallState.PLANNED, created_at=weekly, updated_at=weekly)
    session.add_all([planned, later])

    # A scam warning rung to them, and the neighbour's "OK" by text (matched by number only).
    warned = ENROLLED + timedelta(days=90)
    warning_call = CallAttempt(to_number=person_number, purpose="campaign:scam",
                               script="warning", params={"name": full_name, "text": "Truffa"},
                               status="completed", outcome=CallOutcome.CONFIRMED,
                               created_at=warned, updated_at=warned)
    session.add(warning_call)
    campaign = Campaign(kind=CampaignKind.SCAM, state=CampaignState.DONE, title="Truffa",
                        messages={"it": "Attenzione ai falsi tecnici."}, channel="voice",
                        valid_from=warned.date(), valid_until=warned.date(), created_at=warned)
    session.add(campaign)
    session.flush()
    session.add(CampaignDelivery(campaign_id=campaign.id, enrollee_id=enrollee.id,
                                 state=DeliveryState.DELIVERED, attempts=1,
                                 external_id=f"call:{warning_call.id}",
                                 reason=f"busy on {person_number}", updated_at=warned))
    session.add(SmsMessage(direction="inbound", number=contact_number,
                           body=f"OK {alarm.code}", status="received", created_at=pressed,
                           updated_at=pressed))
    session.add(NumberStanding(number=_e164(mobile), unsubscribed=True, updated_at=warned))

    service.viewed(session, enrollee, OPERATOR, pressed)
    service.change_state(session, enrollee, EnrolleeState.ENDED,
                         f"Trasferita dalla figlia in {street}", SOCIAL_WORKER, ended)
    session.commit()
    secrets = [first, last, enrollee.codice_fiscale, street, contact, health, note,
               person_number, numbers[1], contact_number, phone.replace(" ", "")]
    return Person(enrollee.id, secrets, numbers, [alarm.id, fall.id], device.id, planned.id)


@pytest.fixture
def ermenegilda(session, settings) -> Person:
    return make_person(session, settings, first="Ermenegilda", last="Zanardelli",
                       street="Via Quarenghi 77", phone="02 8765 4321", mobile="348 111 2233",
                       contact="Teodolinda Brambilla", contact_phone="333 444 5566",
                       health="Pacemaker dal 2019", note="Preoccupata per la bolletta",
                       serial="PND-ERM-1")


@pytest.fixture
def bortolo(session, settings) -> Person:
    """Another ended person, whose data must stay whole."""
    return make_person(session, settings, first="Bortolo", last="Guzzetti",
                       street="Viale Monza 303", phone="02 1234 9999", mobile="349 555 6677",
                       contact="Ambrogina Cattaneo", contact_phone="347 000 1111",
                       health="Insulina la sera", note="Chiede del figlio Gervasio",
                       serial="PND-BOR-1", born=date(1936, 9, 3), sex="M")


def due_day(settings) -> datetime:
    return ENDED + timedelta(days=settings.privacy.retention_days)


def enrollee(session, person: Person) -> Enrollee:
    session.expire_all()
    return session.get(Enrollee, person.enrollee_id)


# The console's fixtures (an app on this test's transaction, a user of every role, a login),
# for the pages that show an ended or erased record.
from tests.web.conftest import app, client, login, runtime, tokens, users  # noqa: E402, F401
