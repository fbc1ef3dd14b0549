"""A heat check nobody hears opens an alarm: a person alone, unheard in a heat wave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from campaigns.heat import HeatCoverage
from campaigns.sweep import tick
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    CallAttempt,
    CallOutcome,
    Campaign,
    CampaignDelivery,
    CampaignKind,
    DeliveryState,
    EnrolleePhone,
    HeatForecast,
    Severity,
)
from telecare.settings import CampaignSettings, config_dir
from telecare.telephony.port import TelephonyError
from tests.factories import enrollee_data

ROME = ZoneInfo("Europe/Rome")
# A Wednesday morning of a red heat-wave day in Milan.
MORNING = datetime(2027, 7, 14, 10, 0, tzinfo=ROME).astimezone(UTC)
SETTINGS = CampaignSettings(max_attempts=2, retry_minutes=30)
MILANO, MONZA = "015146", "108033"


class Dialler:
    """Places calls as the Dialer does (a call_attempt row, "call:<id>"); the test decides
    how each ended. Can be told to fail for a number, or to break."""

    def __init__(self, session):
        self.session = session
        self.calls: dict[str, list[CallAttempt]] = {}
        self.failures: dict[str, Exception] = {}

    def send(self, *, to, channel, language, text, purpose, name=""):
        if to in self.failures:
            raise self.failures[to]
        attempt = CallAttempt(to_number=to, purpose=purpose, script=purpose, created_at=MORNING,
                              updated_at=MORNING)
        self.session.add(attempt)
        self.session.flush()
        self.calls.setdefault(to, []).append(attempt)
        return f"call:{attempt.id}"

    def ended(self, number: str, purpose: str, outcome: CallOutcome) -> None:
        """The latest call of this campaign kind to `number` ended so."""
        [*_, attempt] = [a for a in self.calls[number] if a.purpose == f"campaign:{purpose}"]
        attempt.status, attempt.outcome = "completed", outcome


def reuse(session):
    """A session factory that hands out the test's own session (its commits are savepoints)."""

    class Reused:
        def __enter__(self):
            return session

        def __exit__(self, *exc):
            return False

    return lambda: Reused()


@pytest.fixture
def heat_wave(session, settings):
    """Red in Milan today; two people alone in Milan, one in Monza with family."""
    def enrol(number, municipality=MILANO, alone=True):
        data = read_enrollee(enrollee_data(
            municipality_istat=municipality, lives_alone=alone,
            phones=[{"number": number, "kind": "landline"}]), MORNING.date(), settings.enrolment)
        return service.enrol(session, data, Actor("giulia"), MORNING)

    people = {"alone": enrol("02 2614 0001"), "answers": enrol("02 2614 0002"),
              "family": enrol("039 230 0003", MONZA, alone=False)}
    session.add(HeatForecast(city="MILANO", day=MORNING.astimezone(ROME).date(), level=3,
                             issued_on=MORNING.date(), source="manual", updated_at=MORNING))
    session.commit()
    return people


def sweep(session, network, at):
    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    return tick(reuse(session), network, SETTINGS, ROME, at, coverage, ["it"])


def number(person):
    return person.phones[0].number


def alarms_of(session, kind=None):
    query = select(Alarm).order_by(Alarm.id)
    if kind is not None:
        query = query.where(Alarm.kind == kind)
    return session.scalars(query).all()


def delivery(session, person, kind):
    return session.scalars(select(CampaignDelivery).join(Campaign).where(
        CampaignDelivery.enrollee_id == person.id, Campaign.kind == kind)).one()


def test_an_unanswered_heat_check_opens_one_alarm_after_its_last_attempt(session, heat_wave):
    alone, answers, family = heat_wave["alone"], heat_wave["answers"], heat_wave["family"]
    network = Dialler(session)
    first = sweep(session, network, MORNING)
    # A warning for all three (Milan's bulletin covers Monza), a check for the two alone.
    assert first.sent.sent == 5
    network.ended(number(alone), "heat_check", CallOutcome.NO_ANSWER)
    network.ended(number(alone), "heat_warning", CallOutcome.NO_ANSWER)
    network.ended(number(answers), "heat_check", CallOutcome.CONFIRMED)
    network.ended(number(answers), "heat_warning", CallOutcome.CONFIRMED)
    network.ended(number(family), "heat_warning", CallOutcome.VOICEMAIL)

    # The first unanswered attempt: attempts are left, so a retry and no alarm yet.
    sweep(session, network, MORNING + timedelta(minutes=1))
    check = delivery(session, alone, CampaignKind.HEAT_CHECK)
    assert (check.state, check.attempts, check.reason) == (
        DeliveryState.QUEUED, 1, "no_answer")
    assert check.next_attempt_at == MORNING + timedelta(minutes=31)
    assert delivery(session, answers, CampaignKind.HEAT_CHECK).state == DeliveryState.DELIVERED
    assert alarms_of(session) == []

    # The last attempt goes unanswered too; the warnings' second attempts fail as well.
    later = MORNING + timedelta(minutes=31)
    assert sweep(session, network, later).sent.sent == 3
    network.ended(number(alone), "heat_check", CallOutcome.NO_ANSWER)
    network.ended(number(alone), "heat_warning", CallOutcome.BUSY)
    network.ended(number(family), "heat_warning", CallOutcome.NO_ANSWER)
    sweep(session, network, later + timedelta(minutes=2))

    check = delivery(session, alone, CampaignKind.HEAT_CHECK)
    assert (check.state, check.attempts, check.reason) == (
        DeliveryState.FAILED, 2, "no_answer")
    for person in (alone, family):  # failed warnings stay failed deliveries, no more
        assert delivery(session, person, CampaignKind.HEAT_WARNING).state == \
            DeliveryState.FAILED
    [alarm] = alarms_of(session)  # none for the confirmed check nor for the warnings
    assert (alarm.kind, alarm.severity, alarm.enrollee_id) == (
        AlarmKind.HEAT_CHECK_UNANSWERED, Severity.HIGH, alone.id)
    [opened] = alarm.events
    campaign = session.get(Campaign, check.campaign_id)
    assert (opened.kind, opened.actor) == ("opened", "system")
    assert opened.detail == {"severity": "high", "campaign": campaign.id,
                             "title": campaign.title, "delivery": check.id, "attempts": 2,
                             "reason": "no_answer"}

    # Nothing more moves: a later pass opens nothing new.
    sweep(session, network, later + timedelta(minutes=5))
    assert len(alarms_of(session)) == 1


def test_a_heat_check_that_cannot_be_placed_opens_the_alarm_too(session, heat_wave):
    alone, answers = heat_wave["alone"], heat_wave["answers"]
    # Nobody can ring a person with no phone left on the card, nor a number the network
    # refuses: they are as unchecked as one who does not answer.
    session.execute(delete(EnrolleePhone).where(EnrolleePhone.enrollee_id == alone.id))
    session.commit()
    network = Dialler(session)
    network.failures[number(answers)] = TelephonyError("21211 invalid number", permanent=True)
    report = sweep(session, network, MORNING)
    assert report.sent.failed == 4  # both people's warning and check

    found = {a.enrollee_id: a for a in alarms_of(session)}
    assert set(found) == {alone.id, answers.id}
    assert {a.kind for a in found.values()} == {AlarmKind.HEAT_CHECK_UNANSWERED}
    assert found[alone.id].events[0].detail["reason"] == "no phone number"
    assert found[answers.id].events[0].detail["reason"] == "21211 invalid number"
    assert delivery(session, alone, CampaignKind.HEAT_CHECK).state == DeliveryState.FAILED


def test_a_heat_check_broken_by_our_own_fault_still_reaches_an_operator(session, heat_wave):
    alone = heat_wave["alone"]
    network = Dialler(session)
    network.failures[number(alone)] = RuntimeError("template missing")
    sweep(session, network, MORNING)
    check = delivery(session, alone, CampaignKind.HEAT_CHECK)
    assert (check.state, check.reason) == (DeliveryState.FAILED,
                                           "unexpected error: template missing")
    [alarm] = alarms_of(session, AlarmKind.HEAT_CHECK_UNANSWERED)
    assert alarm.enrollee_id == alone.id


def test_the_next_days_unanswered_check_joins_the_alarm_still_open(session, heat_wave):
    alone = heat_wave["alone"]
    session.execute(delete(EnrolleePhone).where(EnrolleePhone.enrollee_id == alone.id))
    tomorrow = MORNING + timedelta(days=1)
    session.add(HeatForecast(city="MILANO", day=tomorrow.astimezone(ROME).date(), level=3,
                             issued_on=MORNING.date(), source="manual", updated_at=MORNING))
    session.commit()
    network = Dialler(session)
    sweep(session, network, MORNING)
    sweep(session, network, tomorrow)
    [alarm] = alarms_of(session, AlarmKind.HEAT_CHECK_UNANSWERED)
    assert [e.kind for e in session.scalars(select(AlarmEvent).where(
        AlarmEvent.alarm_id == alarm.id).order_by(AlarmEvent.id))] == ["opened", "repeated"]
