"""SMS: delivery statuses, "OK 4821" replies reaching a handler, STOP and START."""

from __future__ import annotations

import pytest

from telecare.models import NumberStanding, SmsMessage
from telecare.telephony import TelephonyError
from telecare.telephony.sms import acknowledgement_received, read_reply

NUMBER = "+393331234567"


@pytest.fixture
def acknowledgements():
    received = []

    def handler(session, number, code, **_):
        received.append((number, code))

    acknowledgement_received.connect(handler)
    yield received
    acknowledgement_received.disconnect(handler)


def _sms(live, sms_id: int, status: str) -> SmsMessage:
    def reached():
        with live.session() as session:
            sms = session.get(SmsMessage, sms_id)
            return sms if sms.status == status else None

    return live.sim.wait_for(reached, 10, f"SMS {sms_id} to be {status}")


def test_it_sends_an_sms_and_records_its_delivery(live):
    sms_id = live.messenger.send(NUMBER, "Allerta caldo: bevete acqua.", purpose="campaign")

    message = live.sim.phone(NUMBER).expect_sms("Allerta caldo")
    sms = _sms(live, sms_id, "delivered")
    assert sms.message_sid == message.sid
    live.sim.assert_no_unexpected()


def test_it_records_an_undelivered_sms(live):
    live.sim.person(NUMBER, sms_status="undelivered")
    sms_id = live.messenger.send(NUMBER, "Prova", purpose="campaign")
    live.sim.phone(NUMBER).expect_sms("Prova")
    assert "30003" in _sms(live, sms_id, "undelivered").error
    live.sim.assert_no_unexpected()


@pytest.mark.parametrize("body", ["ok 4821", "OK 4821", "  Ok   4821 ", "ok4821", "OK 4821."])
def test_it_hands_an_ok_reply_with_its_code_to_the_handler(live, acknowledgements, body):
    assert live.sim.phone(NUMBER).text(body) == 200
    assert acknowledgements == [(NUMBER, "4821")]
    with live.session() as session:
        stored = session.query(SmsMessage).filter_by(direction="inbound").one()
        assert stored.body == body
    live.sim.assert_no_unexpected()


def test_it_marks_a_number_unsubscribed_on_stop_and_sends_it_nothing(live):
    assert live.sim.phone(NUMBER).text("STOP") == 200
    with live.session() as session:
        assert session.get(NumberStanding, NUMBER).unsubscribed
    with pytest.raises(TelephonyError) as raised:
        live.messenger.send(NUMBER, "Allerta caldo", purpose="campaign")
    assert raised.value.permanent
    assert [m.direction for m in live.sim.messages] == ["inbound"]

    assert live.sim.phone(NUMBER).text("start") == 200
    with live.session() as session:
        assert not session.get(NumberStanding, NUMBER).unsubscribed
    live.messenger.send(NUMBER, "Bentornato", purpose="campaign")
    live.sim.phone(NUMBER).expect_sms("Bentornato")
    live.sim.wait_idle()
    live.sim.assert_no_unexpected()


def test_it_ignores_a_replayed_inbound_sms(live, acknowledgements):
    from telecare.twilio_sim.resources import new_sid

    sid = new_sid("SM")
    params = {"MessageSid": sid, "From": NUMBER, "To": "+390200000000", "Body": "ok 4821"}
    url = f"{live.public_url}/twilio/sms/inbound"
    assert live.sim._post(url, params, status_only=True) == 200
    assert live.sim._post(url, params, status_only=True) == 200
    assert acknowledgements == [(NUMBER, "4821")]


@pytest.mark.parametrize(("body", "kind", "code"), [
    ("Stop", "stop", ""), ("stop.", "stop", ""), ("START", "start", ""),
    ("ok 12 34", "other", ""), ("grazie", "other", ""), ("call me at 4821", "other", ""),
    ("OK 000123", "acknowledgement", "000123"),
    # Lenient, as people type on a phone in a hurry:
    ("okay 4821", "acknowledgement", "4821"), ("ok4821", "acknowledgement", "4821"),
    ("Ok, 4821!", "acknowledgement", "4821"), ("4821 ok", "acknowledgement", "4821"),
    ("sì 4821", "acknowledgement", "4821"), ("4821", "acknowledgement", "4821"),
    ("va bene 4821 grazie", "acknowledgement", "4821"),
])
def test_it_reads_replies(body, kind, code):
    reply = read_reply(body)
    assert (reply.kind, reply.code) == (kind, code)


def test_it_lets_a_demo_text_the_service_through_the_stand_in(live, acknowledgements):
    import requests

    response = requests.post(f"{live.sim.url}/_sim/sms", timeout=10,
                             data={"From": NUMBER, "Body": "OK 4821"})
    assert response.json() == {"webhook_status": 200}
    assert acknowledgements == [(NUMBER, "4821")]
    assert requests.post(f"{live.sim.url}/_sim/sms", data={}, timeout=10).status_code == 400


def test_it_records_twilios_21610_as_permanent_when_twilio_knew_of_the_stop_first(live):
    live.sim.unsubscribed.add(NUMBER)  # Twilio saw STOP while our webhook was unreachable
    with pytest.raises(TelephonyError) as raised:
        live.messenger.send(NUMBER, "Allerta caldo", purpose="campaign")
    assert (raised.value.code, raised.value.permanent) == (21610, True)
    assert live.sleeps == []
    with live.session() as session:
        assert "21610" in session.get(NumberStanding, NUMBER).permanent_error
        assert session.query(SmsMessage).one().status == "failed"
