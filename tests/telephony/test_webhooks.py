"""Twilio's webhooks: signed or refused, replays ignored, unknown calls 404, bad input 400."""

from __future__ import annotations

import logging

import pytest
from twilio.request_validator import RequestValidator

from telecare.models import CallAttempt, ProcessedCallback
from tests.conftest import NOW
from tests.telephony.conftest import AUTH_TOKEN, PUBLIC_URL

SID = "CA" + "a" * 32


@pytest.fixture
def attempt(session) -> CallAttempt:
    row = CallAttempt(call_sid=SID, to_number="+390212345678", purpose="courtesy",
                      script="courtesy", language="it", params={"name": "Maria"},
                      status="queued", created_at=NOW, updated_at=NOW)
    session.add(row)
    session.commit()
    return row


def post_signed(client, path: str, params: dict, *, token: str = AUTH_TOKEN,
                url: str | None = None):
    signature = RequestValidator(token).compute_signature(url or PUBLIC_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def status(seq: int, call_status: str, **extra) -> dict:
    return {"CallSid": SID, "CallStatus": call_status, "SequenceNumber": str(seq),
            "AccountSid": "AC" + "0" * 32, **extra}


# Test vectors from twilio-python's own tests: twilio/twilio-python,
# tests/unit/test_request_validator.py (ValidationTest.setUp and its test_* methods).
TWILIO_URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_TOKEN = "12345"
TWILIO_PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309",
                 "To": "+18005551212", "Caller": "+14158675309"}


@pytest.mark.parametrize(("uri", "expected"), [
    (TWILIO_URI, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),  # test_validation
    ("https://mycompany.com:1234/myapp.php?foo=1&bar=2",
     "RSOYDt4T1cUTdK1PDd93/VVr8B8="),  # test_validation_removes_port_on_https
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2",
     "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),  # test_validation_removes_port_on_http
    (TWILIO_URI, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # test_validation_adds_port_on_https
    ("http://mycompany.com/myapp.php?foo=1&bar=2",
     "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # test_validation_adds_port_on_http
])
def test_it_validates_the_signature_test_vectors_of_twilio_python(uri, expected):
    assert RequestValidator(TWILIO_TOKEN).validate(uri, TWILIO_PARAMS, expected)


def test_it_computes_twilio_pythons_expected_signature():
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URI, TWILIO_PARAMS)
    assert signature == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_it_accepts_a_signed_status_callback(twilio_client, session, attempt):
    response = post_signed(twilio_client, f"/twilio/calls/{attempt.id}/status",
                           status(0, "ringing"))
    assert response.status_code == 204
    session.refresh(attempt)
    assert attempt.status == "ringing"


@pytest.mark.parametrize("headers", [
    {},  # no signature at all
    {"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="},  # somebody else's signature
])
def test_it_refuses_an_unsigned_or_forged_callback_and_changes_nothing(twilio_client, session,
                                                                       attempt, headers):
    response = twilio_client.post(f"/twilio/calls/{attempt.id}/status",
                                  data=status(3, "completed"), headers=headers)
    assert response.status_code == 403
    session.refresh(attempt)
    assert attempt.status == "queued"
    assert attempt.outcome is None
    assert session.query(ProcessedCallback).count() == 0


def test_it_refuses_a_callback_signed_with_another_token_or_for_another_host(
        twilio_client, session, attempt):
    path = f"/twilio/calls/{attempt.id}/status"
    assert post_signed(twilio_client, path, status(3, "completed"),
                       token="not-our-token").status_code == 403
    assert post_signed(twilio_client, path, status(3, "completed"),
                       url="https://evil.example.com" + path).status_code == 403
    session.refresh(attempt)
    assert attempt.outcome is None


def test_it_refuses_every_webhook_without_a_signature(twilio_client, attempt):
    for path in (f"/twilio/calls/{attempt.id}/voice", f"/twilio/calls/{attempt.id}/gather",
                 f"/twilio/calls/{attempt.id}/status", "/twilio/sms/1/status",
                 "/twilio/sms/inbound"):
        assert twilio_client.post(path, data={"CallSid": SID}).status_code == 403, path


def test_it_ignores_a_replayed_status_callback(twilio_client, session, attempt):
    path = f"/twilio/calls/{attempt.id}/status"
    assert post_signed(twilio_client, path, status(1, "ringing")).status_code == 204
    assert post_signed(twilio_client, path,
                       status(2, "in-progress", AnsweredBy="human")).status_code == 204
    replay = post_signed(twilio_client, path, status(1, "ringing"))
    assert replay.status_code == 204  # Twilio would retry anything else
    session.refresh(attempt)
    assert attempt.status == "in-progress"
    assert session.query(ProcessedCallback).count() == 2


def test_it_answers_404_and_logs_a_callback_for_an_unknown_call(twilio_client, attempt,
                                                                caplog):
    with caplog.at_level(logging.WARNING):
        unknown_id = post_signed(twilio_client, "/twilio/calls/999999/status",
                                 status(0, "ringing"))
        other_sid = post_signed(twilio_client, f"/twilio/calls/{attempt.id}/status",
                                dict(status(0, "ringing"), CallSid="CA" + "b" * 32))
    assert unknown_id.status_code == 404
    assert other_sid.status_code == 404
    assert "unknown call 999999" in caplog.text


def test_it_answers_400_naming_the_missing_fields(twilio_client, session, attempt):
    response = post_signed(twilio_client, f"/twilio/calls/{attempt.id}/status",
                           {"CallSid": SID})
    assert response.status_code == 400
    assert "CallStatus" in response.get_data(as_text=True)
    response = post_signed(twilio_client, "/twilio/sms/inbound", {"Body": "ok 1234"})
    assert response.status_code == 400
    assert "MessageSid, From" in response.get_data(as_text=True)


def test_it_answers_the_voice_webhook_with_an_italian_prompt_in_a_gather(twilio_client,
                                                                         attempt):
    response = post_signed(twilio_client, f"/twilio/calls/{attempt.id}/voice",
                           {"CallSid": SID, "CallStatus": "in-progress", "AnsweredBy": "human"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert '<Gather action="https://telecare.example.org/twilio/calls/' in body
    assert 'numDigits="1"' in body
    # Spoken slowly: SSML for the Polly voice.
    assert ('<Say language="it-IT" voice="Polly.Bianca"><prosody rate="85%">Buongiorno Maria'
            in body)
    assert "<Redirect" in body  # silence replays the prompt


@pytest.mark.parametrize(("path", "params", "named"), [
    ("status", {"CallSid": SID, "CallStatus": "exploded"}, "CallStatus"),
    ("status", {"CallSid": SID, "CallStatus": "ringing", "SequenceNumber": "9" * 40},
     "SequenceNumber"),
    ("voice", {"CallSid": SID, "AnsweredBy": "x" * 100}, "AnsweredBy"),
    ("voice", {"CallSid": "CA" + "0" * 100}, "CallSid"),
])
def test_it_answers_400_to_values_twilio_never_sends(twilio_client, session, attempt, path,
                                                     params, named):
    response = post_signed(twilio_client, f"/twilio/calls/{attempt.id}/{path}", params)
    assert response.status_code == 400
    assert named in response.get_data(as_text=True)
    session.refresh(attempt)
    assert (attempt.status, attempt.answered_by, attempt.prompts) == ("queued", "", 0)


def test_it_answers_400_to_an_inbound_sms_from_an_impossible_number(twilio_client):
    response = post_signed(twilio_client, "/twilio/sms/inbound",
                           {"MessageSid": "SM" + "1" * 32, "From": "+39" + "1" * 30,
                            "Body": "STOP"})
    assert response.status_code == 400
    assert "From" in response.get_data(as_text=True)
