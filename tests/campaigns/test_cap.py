from datetime import timedelta

import pytest
from click.testing import CliRunner

from campaigns.cap import CapRefused, parse
from campaigns.cap_store import active_messages, receive, recipients
from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import CapState
from tests.conftest import NOW
from tests.factories import enrollee_data

SAMPLES = ["googlecap__canada.cap.xml", "googlecap__thunderstorm.cap.xml",
           "oasiscap__v1dot2_appendix_adot1.xml", "oasiscap__v1dot2_appendix_adot2.xml",
           "oasiscap__v1dot2_appendix_adot3.xml", "oasiscap__v1dot2_appendix_adot4.xml"]


def heat_alert(identifier, msg_type="Alert", level="3; orange; Severe", references="",
               status="Actual", expires="2026-11-30T20:00:00+01:00"):
    """A Meteoalarm-style high-temperature warning for Milan and Bresso."""
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>meteoalarm@example.it</sender>
  <sent>2026-11-28T09:00:00+01:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}
  <info>
    <language>it-IT</language>
    <category>Met</category>
    <event>Temperature elevate</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <expires>{expires}</expires>
    <headline>Ondata di calore</headline>
    <description>Temperature massime fino a 37 gradi.</description>
    <parameter><valueName>awareness_type</valueName><value>5; high-temperature</value></parameter>
    <parameter><valueName>awareness_level</valueName><value>{level}</value></parameter>
    <area>
      <areaDesc>Milano e Bresso</areaDesc>
      <geocode><valueName>ISTAT</valueName><value>015146</value></geocode>
      <geocode><valueName>ISTAT</valueName><value>15032</value></geocode>
    </area>
  </info>
</alert>""".encode()


def test_it_imports_the_specifications_samples_and_recognises_a_repeat(session, shared_data):
    results = {name: receive(session, (shared_data / "cap" / name).read_bytes(), NOW)
               for name in SAMPLES}
    # Appendix A.2 is the same thunderstorm warning (sender and identifier) as Google's copy.
    assert results["oasiscap__v1dot2_appendix_adot2.xml"].duplicate
    assert sum(not r.duplicate for r in results.values()) == 5
    canada = results["googlecap__canada.cap.xml"].message
    assert (canada.msg_type, canada.state) == ("Update", CapState.ACTIVE)
    assert len(canada.polygons) == 4  # two areas, each in English and in French


def test_it_lets_an_update_replace_its_alert_and_a_cancel_withdraw_it(session):
    first = receive(session, heat_alert("IT-1"), NOW).message
    assert first.heat_level == 2 and first.area_istat == ["015032", "015146"]
    update = receive(session, heat_alert(
        "IT-2", "Update", "4; red; Extreme",
        references="meteoalarm@example.it,IT-1,2026-11-28T09:00:00+01:00"), NOW).message
    assert (first.state, first.replaced_by_id) == (CapState.SUPERSEDED, update.id)
    assert update.heat_level == 3
    assert active_messages(session, NOW) == [update]
    cancel = receive(session, heat_alert(
        "IT-3", "Cancel", references="meteoalarm@example.it,IT-2,2026-11-28T09:00:00+01:00"),
        NOW)
    assert update.state == CapState.CANCELLED
    assert cancel.message.state == CapState.NOT_DELIVERED
    assert active_messages(session, NOW) == []


def test_it_never_delivers_exercises_or_expired_alerts(session):
    exercise = receive(session, heat_alert("EX-1", status="Exercise"), NOW).message
    assert exercise.state == CapState.NOT_DELIVERED
    receive(session, heat_alert("OLD-1", expires="2026-11-28T10:30:00+01:00"), NOW)
    assert active_messages(session, NOW + timedelta(hours=1)) == []


@pytest.mark.parametrize(("document", "reason"), [
    (b"<alert><unclosed></alert>", "not well-formed XML"),
    (heat_alert("X").replace(b"<sender>meteoalarm@example.it</sender>", b""),
     "not valid CAP 1.2 (line 5): Element '{urn:oasis:names:tc:emergency:cap:1.2}sent': "
     "This element is not expected. Expected is ( {urn:oasis:names:tc:emergency:cap:1.2}sender )"),
    (heat_alert("X").replace(b"<status>Actual</status>", b"<status>Maybe</status>"),
     "not valid CAP 1.2"),
])
def test_it_refuses_what_is_not_cap_with_the_reason(session, document, reason):
    with pytest.raises(CapRefused) as excinfo:
        receive(session, document, NOW)
    assert str(excinfo.value).startswith(reason)


def test_it_refuses_a_document_that_asks_to_expand_entities():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx">'
            b'<!ENTITY y "&x;&x;&x;&x;&x;&x;&x;&x;">]><alert>&y;</alert>')
    with pytest.raises(CapRefused):
        parse(bomb)


def test_it_finds_recipients_by_istat_code_and_by_polygon(session, settings):
    def enrol(**overrides):
        data = read_enrollee(enrollee_data(**overrides), NOW.date(), settings.enrolment)
        return service.enrol(session, data, Actor("giulia"), NOW)

    in_milan = enrol(municipality_istat="015146")
    in_rho = enrol(municipality_istat="015182", latitude="45.5320", longitude="9.0400")
    enrol(municipality_istat="015182", latitude="45.6000", longitude="9.2000")
    session.flush()
    by_code = receive(session, heat_alert("IT-9"), NOW).message
    assert recipients(session, by_code) == [in_milan]
    polygon = heat_alert("IT-10").replace(
        b"<areaDesc>Milano e Bresso</areaDesc>",
        b"<areaDesc>Rho</areaDesc><polygon>45.50,9.00 45.56,9.00 45.56,9.08 45.50,9.08 "
        b"45.50,9.00</polygon>").replace(b"<geocode><valueName>ISTAT</valueName><value>15032"
                                         b"</value></geocode>", b"")
    assert recipients(session, receive(session, polygon, NOW).message) == [in_milan, in_rho]


def test_it_imports_cap_files_from_the_command_line(tmp_path):
    from telecare.cli import telecare

    env = {"TELECARE_DATA_DIR": str(tmp_path), "TELECARE_DATABASE_URL": ""}
    good, bad = tmp_path / "heat.xml", tmp_path / "bad.xml"
    good.write_bytes(heat_alert("IT-1"))
    bad.write_bytes(b"<alert/>")
    runner = CliRunner()
    assert runner.invoke(telecare, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(telecare, ["campaigns", "import-cap", str(good), str(bad)], env=env)
    assert result.exit_code == 1
    assert f"{good}: meteoalarm@example.it IT-1: Alert (active)" in result.output
    assert f"{bad}: refused: not valid CAP 1.2" in result.output
    again = runner.invoke(telecare, ["campaigns", "import-cap", str(good)], env=env)
    assert "already received, nothing delivered again" in again.output


def test_it_warns_the_area_and_lets_an_update_or_a_cancel_stop_what_is_pending(session,
                                                                               settings):
    from sqlalchemy import select

    from campaigns.cap_store import warn_from
    from campaigns.delivery import delivery_report
    from telecare.models import Campaign, CampaignState

    data = read_enrollee(enrollee_data(municipality_istat="015146"), NOW.date(),
                         settings.enrolment)
    service.enrol(session, data, Actor("giulia"), NOW)
    session.flush()
    first = warn_from(session, receive(session, heat_alert("IT-1"), NOW), NOW)
    assert first.messages["it"].startswith("Ondata di calore")
    assert delivery_report(session, first) == {"queued": 1}
    update = warn_from(session, receive(session, heat_alert(
        "IT-2", "Update", "4; red; Extreme",
        references="meteoalarm@example.it,IT-1,2026-11-28T09:00:00+01:00"), NOW), NOW)
    assert first.state == CampaignState.CANCELLED
    assert delivery_report(session, first) == {"cancelled": 1}
    assert delivery_report(session, update) == {"queued": 1}
    assert warn_from(session, receive(session, heat_alert("IT-2", "Update"), NOW), NOW) is None
    cancelled = warn_from(session, receive(session, heat_alert(
        "IT-3", "Cancel", references="meteoalarm@example.it,IT-2,2026-11-28T09:00:00+01:00"),
        NOW), NOW)
    assert cancelled is None
    assert delivery_report(session, update) == {"cancelled": 1}
    assert len(session.scalars(select(Campaign)).all()) == 2
