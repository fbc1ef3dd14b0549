"""Telephony fixtures: our app under waitress and the Twilio stand-in, both on free ports."""

from __future__ import annotations

import contextlib
import threading

import pytest
import waitress

from telecare.runtime import Runtime
from telecare.settings import DatabaseSettings, TelephonySettings, TwilioSettings, WebSettings
from telecare.telephony.calls import Dialer
from telecare.telephony.ratelimit import TokenBucket
from telecare.telephony.sms import Messenger
from telecare.telephony.twilio_adapter import TwilioTelephony
from telecare.twilio_sim import TwilioSim
from web import create_app

# Twilio's SIDs are "AC" and 32 hex digits; the OpenAPI description checks the pattern.
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "stand-in-auth-token"
SERVICE_NUMBER = "+390200000000"


@pytest.fixture
def live(settings, server_database):
    """Our app on a free port (its public URL), the stand-in on another, both over real HTTP."""
    runtime = Runtime(settings.replace(database=DatabaseSettings(url=server_database),
                                       web=WebSettings(secret_key="telephony-test")))
    server = waitress.create_server(create_app(runtime), host="127.0.0.1", port=0, threads=8)
    public_url = f"http://127.0.0.1:{server.effective_port}"
    sim = TwilioSim(ACCOUNT_SID, AUTH_TOKEN, sms_url=f"{public_url}/twilio/sms/inbound",
                    press_wait=10.0).start()
    runtime.settings = runtime.settings.replace(
        public_url=public_url,
        twilio=TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                              from_=SERVICE_NUMBER, api_url=sim.url),
        telephony=TelephonySettings(calls_per_second=50))

    def serve() -> None:
        # close() pulls the socket from under waitress's select(): that is it stopping.
        with contextlib.suppress(OSError):
            server.run()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield Live(runtime, sim, public_url)
        # Every test, whether it asked or not: the app never answered the stand-in badly.
        sim.wait_idle(15)
        assert not sim.errors, f"the app answered the stand-in badly: {sim.errors}"
    finally:
        sim.stop()
        server.close()
        thread.join(timeout=5)
        runtime.close()


class Live:
    def __init__(self, runtime: Runtime, sim: TwilioSim, public_url: str):
        self.runtime, self.sim, self.public_url = runtime, sim, public_url
        self.sleeps: list[float] = []
        self.telephony = TwilioTelephony(runtime.settings, sleep=self.sleeps.append,
                                         bucket=TokenBucket(1000))
        self.dialer = Dialer(runtime.settings, runtime.sessions, self.telephony, runtime.clock)
        self.messenger = Messenger(runtime.settings, runtime.sessions, self.telephony,
                                   runtime.clock)

    def session(self):
        return self.runtime.sessions()


PUBLIC_URL = "https://telecare.example.org"


class FixedClock:
    def __init__(self, at):
        self.at = at

    def now(self):
        return self.at


@pytest.fixture
def webapp_runtime(settings, session_factory) -> Runtime:
    """The app on the test's rolled-back transaction, for webhook tests without a server."""
    from tests.conftest import NOW

    runtime = Runtime(settings.replace(
        public_url=PUBLIC_URL, web=WebSettings(secret_key="telephony-test"),
        twilio=TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                              from_=SERVICE_NUMBER)), FixedClock(NOW))
    runtime.sessions = session_factory
    return runtime


@pytest.fixture
def twilio_client(webapp_runtime):
    return create_app(webapp_runtime, {"TESTING": True}).test_client()


class FakeTelephony:
    """A hand-written fake of the port: remembers what it was asked, or raises what it is told."""

    def __init__(self):
        self.calls, self.texts, self.raises = [], [], None

    def place_call(self, call):
        if self.raises:
            raise self.raises
        self.calls.append(call)
        return f"CA{len(self.calls):032x}"

    def send_sms(self, sms):
        if self.raises:
            raise self.raises
        self.texts.append(sms)
        return f"SM{len(self.texts):032x}"

    def hang_up(self, call_sid):
        pass
