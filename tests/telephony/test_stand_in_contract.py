"""The stand-in held to Twilio's OpenAPI description: parameters, JSON shapes, enums, errors."""

from __future__ import annotations

import json

import pytest
import requests

from telecare.telephony.port import OutboundCall, OutboundSms
from telecare.telephony.twilio_adapter import RewritingHttpClient, TwilioTelephony
from telecare.twilio_sim import Behaviour
from tests.telephony.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_NUMBER

jsonschema = pytest.importorskip("jsonschema")

NUMBER = "+390212345678"
CALLS = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
CALL = "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


@pytest.fixture
def openapi(shared_data):
    return json.loads((shared_data / "twilio" / "twilio_api_v2010.json").read_text("utf-8"))


def _nullable(schema):
    """OpenAPI 3.0's `nullable: true` in JSON Schema's terms, recursively."""
    if isinstance(schema, list):
        return [_nullable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: _nullable(value) for key, value in schema.items()}
    if schema.pop("nullable", False):
        if "type" in schema:
            schema["type"] = [schema["type"], "null"]
        elif "$ref" in schema:
            schema = {"anyOf": [{"$ref": schema.pop("$ref")}, {"type": "null"}], **schema}
    return schema


def validate(openapi, name: str, instance: dict) -> None:
    components = _nullable(openapi["components"])
    schema = dict(components["schemas"][name], components=components)
    jsonschema.validate(instance, schema)


def request_fields(openapi, path: str) -> set[str]:
    body = openapi["paths"][path]["post"]["requestBody"]["content"]
    return set(body["application/x-www-form-urlencoded"]["schema"]["properties"])


def api(live, path: str, **kwargs):
    auth = kwargs.pop("auth", (ACCOUNT_SID, AUTH_TOKEN))
    url = live.sim.url + path.format(AccountSid=ACCOUNT_SID, Sid=kwargs.pop("sid", ""))
    return requests.request(kwargs.pop("method", "POST"), url, auth=auth, timeout=10, **kwargs)


def test_it_answers_call_create_and_fetch_in_twilios_shape(live, openapi):
    live.sim.person(NUMBER, Behaviour.NO_ANSWER)
    created = api(live, CALLS, data={"To": NUMBER, "From": SERVICE_NUMBER,
                                     "Twiml": "<Response><Say>Ciao</Say></Response>"})
    assert created.status_code == 201
    validate(openapi, "api.v2010.account.call", created.json())
    assert created.json()["status"] == "queued"
    sid = created.json()["sid"]
    live.sim.wait_idle()
    fetched = api(live, CALL, sid=sid, method="GET")
    assert fetched.status_code == 200
    validate(openapi, "api.v2010.account.call", fetched.json())
    assert fetched.json()["status"] == "no-answer"


def test_it_answers_message_create_and_fetch_in_twilios_shape(live, openapi):
    created = api(live, MESSAGES, data={"To": NUMBER, "From": SERVICE_NUMBER, "Body": "Ciao"})
    assert created.status_code == 201
    validate(openapi, "api.v2010.account.message", created.json())
    live.sim.wait_idle()
    fetched = api(live, MESSAGES.replace(".json", f"/{created.json()['sid']}.json"),
                  method="GET")
    validate(openapi, "api.v2010.account.message", fetched.json())
    assert fetched.json()["status"] == "delivered"


def test_it_refuses_bad_credentials_with_401_and_code_20003(live):
    response = api(live, CALLS, auth=(ACCOUNT_SID, "wrong"),
                   data={"To": NUMBER, "From": SERVICE_NUMBER, "Url": "http://127.0.0.1/x"})
    assert response.status_code == 401
    assert response.json()["code"] == 20003
    assert response.json()["status"] == 401
    assert api(live, CALLS, auth=None, data={}).json()["code"] == 20003


def test_it_refuses_an_invalid_number_with_21211_and_missing_fields_by_name(live):
    invalid = api(live, CALLS, data={"To": "02 1234", "From": SERVICE_NUMBER,
                                     "Url": "http://127.0.0.1/x"})
    assert (invalid.status_code, invalid.json()["code"]) == (400, 21211)
    no_url = api(live, CALLS, data={"To": NUMBER, "From": SERVICE_NUMBER})
    assert no_url.json()["code"] == 21205
    no_body = api(live, MESSAGES, data={"To": NUMBER, "From": SERVICE_NUMBER})
    assert no_body.json()["code"] == 21602
    assert live.sim.calls == [] and live.sim.messages == []


class RecordingClient(RewritingHttpClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, dict]] = []

    def request(self, method, url, params=None, data=None, *args, **kwargs):
        response = super().request(method, url, params, data, *args, **kwargs)
        # The URL requests was really given, after the rewrite.
        self.sent.append((self._test_only_last_request.url, dict(data or {})))
        return response


def test_it_sends_only_parameters_twilios_description_knows(live, openapi):
    from twilio.rest import Client

    settings = live.runtime.settings
    http = RecordingClient(settings.twilio.api_url)
    telephony = TwilioTelephony(settings, client=Client(ACCOUNT_SID, AUTH_TOKEN,
                                                        http_client=http))
    live.sim.person(NUMBER, Behaviour.BUSY)
    sid = telephony.place_call(OutboundCall(NUMBER, "http://127.0.0.1:9/voice",
                                            "http://127.0.0.1:9/status"))
    telephony.hang_up(sid)
    telephony.send_sms(OutboundSms(NUMBER, "Ciao", "http://127.0.0.1:9/sms"))
    (_, call), (_, hang_up), (_, sms) = http.sent
    assert set(call) <= request_fields(openapi, CALLS)
    assert {"MachineDetection", "StatusCallbackEvent", "Timeout"} <= set(call)
    assert set(hang_up) <= request_fields(openapi, CALL)
    assert set(sms) <= request_fields(openapi, MESSAGES)
    assert all(url.startswith(live.sim.url) for url, _ in http.sent)  # never api.twilio.com
    live.sim.wait_idle()
    live.sim.errors.clear()  # port 9 answers nobody: those callbacks were meant to fail


def test_it_redacts_a_message_and_refuses_to_cancel_one_already_sent(live, openapi):
    created = api(live, MESSAGES, data={"To": NUMBER, "From": SERVICE_NUMBER, "Body": "Ciao"})
    live.sim.wait_idle()
    path = MESSAGES.replace(".json", f"/{created.json()['sid']}.json")
    redacted = api(live, path, data={"Body": ""})
    assert redacted.status_code == 200
    validate(openapi, "api.v2010.account.message", redacted.json())
    assert redacted.json()["body"] == ""
    assert api(live, path, data={"Status": "canceled"}).json()["code"] == 30409
    assert set(request_fields(openapi, path.replace(created.json()["sid"], "{Sid}")
                              .replace(ACCOUNT_SID, "{AccountSid}"))) >= {"Body", "Status"}
