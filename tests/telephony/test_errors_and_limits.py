"""Transient errors retried, permanent ones recorded and never retried; the rate limits."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine

from telecare.models import CallAttempt, CallOutcome, NumberStanding
from telecare.settings import TelephonySettings
from telecare.telephony import TelephonyError
from telecare.telephony.calls import ContactLimitReached, Dialer
from telecare.telephony.ratelimit import TokenBucket
from telecare.telephony.twilio_adapter import TwilioTelephony
from telecare.twilio_sim import Behaviour
from tests.conftest import NOW
from tests.telephony.conftest import FakeTelephony

NUMBER = "+390212345678"


def test_it_retries_a_429_and_the_call_goes_through(live):
    live.sim.person(NUMBER, Behaviour.ANSWER, ["1"])
    live.sim.fail_next(429, 20429, "Too Many Requests")

    attempt_id = live.dialer.call(NUMBER, purpose="courtesy", script="courtesy",
                                  params={"name": "Maria"})

    assert live.sleeps == [0.5]  # one backoff, then success
    assert len(live.sim.calls) == 1
    live.sim.wait_idle()
    with live.session() as session:
        assert session.get(CallAttempt, attempt_id).outcome == CallOutcome.CONFIRMED
    live.sim.assert_no_unexpected()


def test_it_retries_5xx_with_a_growing_backoff_and_gives_up_as_transient(live):
    live.sim.fail_next(503, 20500, "Service Unavailable", times=4)

    with pytest.raises(TelephonyError) as raised:
        live.dialer.call(NUMBER, purpose="courtesy", script="courtesy",
                         params={"name": "Maria"})

    assert not raised.value.permanent
    assert live.sleeps == [0.5, 1.0, 2.0]
    assert live.sim.calls == []
    with live.session() as session:
        assert session.get(NumberStanding, NUMBER) is None  # may be tried again later


def test_it_records_21211_as_permanent_and_never_retries_it(live):
    live.sim.person("+3902", Behaviour.INVALID)

    with pytest.raises(TelephonyError) as raised:
        live.dialer.call("+3902", purpose="courtesy", script="courtesy",
                         params={"name": "Maria"})

    assert raised.value.permanent
    assert raised.value.code == 21211
    assert live.sleeps == []  # not retried
    with live.session() as session:
        attempt = session.query(CallAttempt).one()
        assert attempt.outcome == CallOutcome.FAILED
        assert attempt.permanent_error
        assert "21211" in attempt.error
        assert "21211" in session.get(NumberStanding, "+3902").permanent_error
    with pytest.raises(TelephonyError) as again:
        live.dialer.call("+3902", purpose="courtesy", script="courtesy",
                         params={"name": "Maria"})
    assert again.value.permanent
    assert live.sim.calls == []  # the second attempt never reached Twilio


def test_it_reports_bad_credentials_as_twilios_20003(live):
    settings = live.runtime.settings
    wrong = settings.replace(twilio=settings.twilio.__class__(
        account_sid=settings.twilio.account_sid, auth_token="wrong",
        from_=settings.twilio.from_, api_url=settings.twilio.api_url))
    telephony = TwilioTelephony(wrong, sleep=lambda _s: None)
    dialer = Dialer(wrong, live.runtime.sessions, telephony, live.runtime.clock)

    with pytest.raises(TelephonyError) as raised:
        dialer.call(NUMBER, purpose="courtesy", script="courtesy", params={"name": "M"})

    assert raised.value.code == 20003
    assert raised.value.permanent
    # The credentials are wrong, not the number: once they are mended, it rings.
    assert not raised.value.bad_number
    with live.session() as session:
        assert session.get(NumberStanding, NUMBER) is None
    live.sim.person(NUMBER, Behaviour.ANSWER, ["1"])
    live.dialer.call(NUMBER, purpose="courtesy", script="courtesy", params={"name": "M"})
    assert [call.to for call in live.sim.calls] == [NUMBER]


class SimulatedTime:
    """A monotonic clock that sleeping moves forward, shared by threads."""

    def __init__(self):
        self.t = 0.0
        self.lock = threading.Lock()

    def now(self) -> float:
        with self.lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.t = max(self.t, self.t + seconds)


def test_it_places_100_queued_calls_at_no_more_than_the_configured_rate(live):
    # The default: one call per second. Simulated time: sleeping moves the clock, not the test.
    settings = live.runtime.settings.replace(telephony=TelephonySettings(calls_per_second=1))
    time = SimulatedTime()
    granted: list[float] = []
    bucket = TokenBucket(settings.telephony.calls_per_second, clock=time.now,
                         sleep=lambda seconds: None)
    real_acquire = bucket.acquire

    def acquire() -> float:
        slot = real_acquire()
        granted.append(slot)
        time.sleep(slot - time.now())
        return slot

    bucket.acquire = acquire
    telephony = TwilioTelephony(settings, bucket=bucket, sleep=lambda _s: None)
    dialer = Dialer(settings, live.runtime.sessions, telephony, live.runtime.clock)
    numbers = [f"+3902{5550000 + n}" for n in range(100)]
    for number in numbers:
        live.sim.person(number, Behaviour.NO_ANSWER)

    # 100 calls queued at once, placed by 10 workers sharing the account's bucket.
    queue = list(numbers)
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                number = queue.pop()
            dialer.call(number, purpose="campaign", script="courtesy", params={"name": "X"})

    workers = [threading.Thread(target=worker) for _ in range(10)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)

    rate = settings.telephony.calls_per_second
    assert len(live.sim.calls) == 100
    granted.sort()
    for start in granted:
        in_window = [t for t in granted if start <= t < start + 1]
        assert len(in_window) <= rate
    assert granted[-1] - granted[0] >= (100 - 1) / rate
    live.sim.wait_idle(30)
    live.sim.assert_no_unexpected()


class Clock:
    def now(self):
        from datetime import UTC, datetime

        return datetime.now(UTC)


def test_it_stops_a_fourth_non_critical_call_within_15_minutes(settings, session_factory):
    settings = settings.replace(telephony=TelephonySettings())
    telephony = FakeTelephony()
    dialer = Dialer(settings, session_factory, telephony, Clock())
    with time_machine.travel(NOW, tick=False) as traveller:
        for _ in range(3):
            dialer.call(NUMBER, purpose="courtesy", script="courtesy", params={"name": "M"})
            traveller.shift(timedelta(minutes=4))
        with pytest.raises(ContactLimitReached):
            dialer.call(NUMBER, purpose="courtesy", script="courtesy", params={"name": "M"})
        # An escalation is never held back, and it counts towards the person's quiet.
        dialer.call(NUMBER, purpose="escalation", script="alarm", params={"name": "M"})
        traveller.shift(timedelta(minutes=4))  # minute 16: calls at 4, 8 and 12 remain
        with pytest.raises(ContactLimitReached):
            dialer.call(NUMBER, purpose="courtesy", script="courtesy", params={"name": "M"})
        traveller.shift(timedelta(minutes=4))  # minute 20: only 8 and 12 remain
        dialer.call(NUMBER, purpose="courtesy", script="courtesy", params={"name": "M"})
    assert [call.to for call in telephony.calls] == [NUMBER] * 5


def test_it_spaces_grants_by_the_rate_without_bursts():
    time = SimulatedTime()
    bucket = TokenBucket(2, clock=time.now, sleep=time.sleep)
    grants = [bucket.acquire() for _ in range(5)]
    assert grants == [0.0, 0.5, 1.0, 1.5, 2.0]
