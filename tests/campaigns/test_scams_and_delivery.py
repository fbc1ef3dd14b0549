from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from campaigns.delivery import (
    cancel,
    deliver_due,
    delivery_report,
    finish_if_done,
    quiet_until,
)
from campaigns.geography import shipped_neighbours
from campaigns.scams import current_warnings, read_scam_report, send_scam_warning
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.errors import ValidationFailed
from telecare.models import AuditEntry, CampaignDelivery, CampaignState, DeliveryState
from telecare.settings import CampaignSettings
from telecare.telephony.port import TelephonyError
from tests.factories import enrollee_data

ROME = ZoneInfo("Europe/Rome")
# A Tuesday morning in Milan.
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=ROME).astimezone(UTC)
BRESSO, MILANO, BOLLATE = "015032", "015146", "015027"
OPERATOR = Actor("operatore1")


class FakeNetwork:
    """Takes messages like the phone network would; can be told to fail for a number."""

    def __init__(self):
        self.sent: list[dict] = []
        self.failures: dict[str, TelephonyError] = {}

    def send(self, *, to, channel, language, text, purpose, name=""):
        if to in self.failures:
            raise self.failures[to]
        self.sent.append({"to": to, "channel": channel, "language": language, "text": text})
        return f"ID{len(self.sent)}"


def report(**overrides):
    raw = {"municipality": BRESSO, "scam_kind": "fake_carabiniere",
           "message_it": "Attenzione: falsi carabinieri chiedono denaro e gioielli.",
           "message_en": "Beware: fake police officers are asking for money and jewels.",
           "channel": "voice", "valid_until": "2026-12-31"}
    raw.update(overrides)
    return read_scam_report(raw, MORNING.date(), ["it", "en"], None)


@pytest.fixture
def people(session, settings):
    def enrol(municipality, **overrides):
        data = read_enrollee(enrollee_data(municipality_istat=municipality, **overrides),
                             MORNING.date(), settings.enrolment)
        return service.enrol(session, data, Actor("giulia"), MORNING)

    def phone(number):
        return [{"number": number, "kind": "landline"}]

    made = {"bresso": enrol(BRESSO, phones=phone("02 6100 0001")),
            "milano": enrol(MILANO, language="en", phones=phone("02 2614 0002")),
            "bollate": enrol(BOLLATE, phones=phone("02 3830 0003"))}
    session.flush()
    return made


def test_it_knows_when_the_quiet_hours_end_across_a_clock_change():
    # Saturday 28 March 2026, 23:00 in Rome; the clocks go forward that night.
    night = datetime(2026, 3, 28, 23, 0, tzinfo=ROME)
    until = quiet_until(night.astimezone(UTC), ROME, "20:00", "09:00")
    assert until.astimezone(ROME) == datetime(2026, 3, 29, 9, 0, tzinfo=ROME)
    assert until - night.astimezone(UTC) == timedelta(hours=9)  # ten on the wall, nine real
    early = datetime(2026, 3, 29, 7, 30, tzinfo=ROME)
    assert quiet_until(early, ROME, "20:00", "09:00").astimezone(ROME).hour == 9
    assert quiet_until(MORNING, ROME, "20:00", "09:00") is None


def test_it_names_every_bad_field_of_a_report():
    with pytest.raises(ValidationFailed) as excinfo:
        read_scam_report({"municipality": "999999", "scam_kind": "aliens", "channel": "fax",
                          "valid_until": "2026-01-01"}, MORNING.date(), ["it"], None)
    assert [e.field for e in excinfo.value.errors] == [
        "municipality", "scam_kind", "message_it", "channel", "valid_until"]


def test_it_warns_bresso_and_its_neighbours_once_each_in_their_language(session, people):
    campaign, queued = send_scam_warning(session, report(), shipped_neighbours(), None,
                                         OPERATOR, MORNING)
    session.commit()
    assert queued == 2  # Bresso and Milan; Bollate does not border Bresso
    network = FakeNetwork()
    result = deliver_due(_reuse(session), network, CampaignSettings(), ROME, MORNING)
    assert (result.sent, result.failed) == (2, 0)
    heard = sorted((m["language"], m["text"][:10]) for m in network.sent)
    assert heard == [("en", "Beware: fa"), ("it", "Attenzione")]
    assert deliver_due(_reuse(session), network, CampaignSettings(), ROME,
                       MORNING + timedelta(hours=1)).sent == 0  # nobody hears it twice
    assert delivery_report(session, campaign) == {"sent": 2}
    assert not finish_if_done(session, campaign)  # the calls' outcomes are still to come
    for delivery in session.scalars(select(CampaignDelivery)):
        delivery.state = DeliveryState.DELIVERED
    assert finish_if_done(session, campaign) and campaign.state == CampaignState.DONE
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "send")).one()
    assert entry.detail == {"kind": "scam", "recipients": 2}


def test_it_waits_for_morning_unless_urgent(session, people):
    evening = datetime(2026, 11, 24, 21, 30, tzinfo=ROME).astimezone(UTC)
    send_scam_warning(session, report(), shipped_neighbours(), None, OPERATOR, evening)
    urgent, _ = send_scam_warning(session, report(municipality=BOLLATE, urgent=True,
                                                  with_neighbours=False),
                                  shipped_neighbours(), None, OPERATOR, evening)
    session.commit()
    network = FakeNetwork()
    night = deliver_due(_reuse(session), network, CampaignSettings(), ROME, evening)
    assert (night.sent, night.deferred) == (1, 2)  # only the urgent one, to Bollate
    waiting = session.scalars(select(CampaignDelivery.next_attempt_at).where(
        CampaignDelivery.state == DeliveryState.QUEUED)).all()
    assert {t.astimezone(ROME) for t in waiting} == {datetime(2026, 11, 25, 9, 0, tzinfo=ROME)}
    morning = datetime(2026, 11, 25, 9, 0, tzinfo=ROME).astimezone(UTC)
    assert deliver_due(_reuse(session), network, CampaignSettings(), ROME, morning).sent == 2
    assert urgent.urgent


def test_it_retries_a_passing_failure_and_gives_up_on_a_permanent_one(session, people):
    campaign, _ = send_scam_warning(session, report(), shipped_neighbours(), None, OPERATOR,
                                    MORNING)
    session.commit()
    network = FakeNetwork()
    milan_phone = people["milano"].phones[0].number
    bresso_phone = people["bresso"].phones[0].number
    network.failures[milan_phone] = TelephonyError("busy network", permanent=False)
    network.failures[bresso_phone] = TelephonyError("21211 invalid number", permanent=True)
    first = deliver_due(_reuse(session), network, CampaignSettings(), ROME, MORNING)
    assert (first.sent, first.retried, first.failed) == (0, 1, 1)
    del network.failures[milan_phone]
    later = MORNING + timedelta(minutes=30)
    assert deliver_due(_reuse(session), network, CampaignSettings(), ROME, later).sent == 1
    assert delivery_report(session, campaign) == {"sent": 1, "failed": 1}
    failed = session.scalars(select(CampaignDelivery).where(
        CampaignDelivery.state == DeliveryState.FAILED)).one()
    assert (failed.reason, failed.attempts) == ("21211 invalid number", 1)


def test_it_stops_pending_deliveries_when_cancelled(session, people):
    campaign, _ = send_scam_warning(session, report(), shipped_neighbours(), None, OPERATOR,
                                    MORNING)
    assert cancel(session, campaign, MORNING) == 2
    session.commit()
    network = FakeNetwork()
    assert deliver_due(_reuse(session), network, CampaignSettings(), ROME, MORNING).sent == 0
    assert network.sent == []
    assert delivery_report(session, campaign) == {"cancelled": 2}


def test_it_joins_the_weekly_news_of_the_area_until_it_expires(session, people):
    campaign, _ = send_scam_warning(session, report(valid_until="2026-11-30"),
                                    shipped_neighbours(), None, OPERATOR, MORNING)
    session.flush()
    neighbours = shipped_neighbours()
    assert current_warnings(session, MILANO, None, date(2026, 11, 28), neighbours, None) == [
        campaign]
    assert current_warnings(session, BOLLATE, None, date(2026, 11, 28), neighbours, None) == []
    assert current_warnings(session, BRESSO, None, date(2026, 12, 1), neighbours, None) == []


def _reuse(session):
    """A session factory that hands out the test's own session (its commits are savepoints)."""

    class Reused:
        def __enter__(self):
            return session

        def __exit__(self, *exc):
            return False

    return lambda: Reused()


def test_it_sweeps_plans_heat_sends_and_finishes_in_one_pass(session, people):
    from campaigns.heat import HeatCoverage
    from campaigns.sweep import tick
    from telecare.models import Campaign, CampaignKind, HeatForecast
    from telecare.settings import config_dir

    session.add(HeatForecast(city="MILANO", day=MORNING.astimezone(ROME).date(), level=2,
                             issued_on=MORNING.date(), source="manual", updated_at=MORNING))
    session.commit()
    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    network = FakeNetwork()
    first = tick(_reuse(session), network, CampaignSettings(), ROME, MORNING, coverage, ["it"])
    assert first.sent.sent == 3  # Milan's bulletin covers the province: Bresso, Bollate too
    warning = session.scalars(select(Campaign).where(
        Campaign.kind == CampaignKind.HEAT_WARNING)).one()
    assert network.sent[0]["text"].startswith("Il Ministero della Salute segnala per oggi")
    again = tick(_reuse(session), network, CampaignSettings(), ROME, MORNING, coverage, ["it"])
    assert again.sent.sent == 0 and len(network.sent) == 3
    assert warning.state == CampaignState.QUEUED  # sent, the outcomes not known yet


def test_a_delivery_left_claimed_by_a_stopped_process_is_failed_after_its_lease_never_resent(
        session, people):
    send_scam_warning(session, report(), shipped_neighbours(), None, OPERATOR, MORNING)
    session.commit()
    # A process claimed both, then stopped before recording either: one a moment ago (it
    # may still be at work), one eleven minutes ago.
    stopped, working = session.scalars(select(CampaignDelivery).order_by(
        CampaignDelivery.id)).all()
    for delivery, claimed_at in ((stopped, MORNING - timedelta(minutes=11)),
                                 (working, MORNING - timedelta(minutes=1))):
        delivery.state, delivery.updated_at = DeliveryState.SENDING, claimed_at
    session.commit()

    network = FakeNetwork()
    swept = deliver_due(_reuse(session), network, CampaignSettings(), ROME, MORNING)
    assert (swept.sent, swept.failed) == (0, 1)
    assert network.sent == []  # it may have gone out: never sent twice
    session.refresh(stopped)
    session.refresh(working)
    assert (stopped.state, stopped.reason) == (
        DeliveryState.FAILED, "abandoned: the process sending it stopped before recording it")
    assert working.state == DeliveryState.SENDING
