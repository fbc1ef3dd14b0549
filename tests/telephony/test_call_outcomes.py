"""Calls through twilio-python to the stand-in over HTTP, and the outcome each one stores."""

from __future__ import annotations

import pytest

from telecare.models import CallAttempt, CallOutcome
from telecare.twilio_sim import Behaviour

NUMBER = "+390212345678"


def _attempt(live, attempt_id: int) -> CallAttempt:
    def ended():
        with live.session() as session:
            attempt = session.get(CallAttempt, attempt_id)
            return attempt if attempt.outcome is not None else None

    return live.sim.wait_for(ended, 15, f"call attempt {attempt_id} to end")


def test_it_stores_confirmed_when_the_person_hears_the_greeting_and_presses_1(live):
    attempt_id = live.dialer.call(NUMBER, purpose="courtesy", script="courtesy",
                                  params={"name": "Maria Rossi"})
    live.sim.phone("+39 02 1234 5678").expect_call().heard("Buongiorno Maria Rossi").press(
        "1").heard("Grazie").ended()

    attempt = _attempt(live, attempt_id)
    assert attempt.outcome == CallOutcome.CONFIRMED
    assert attempt.confirmed_at is not None
    assert attempt.digits == "1"
    assert attempt.answered_by == "human"
    assert attempt.call_sid.startswith("CA")
    live.sim.assert_no_unexpected()


def test_it_replays_the_prompt_after_a_wrong_key_and_then_confirms(live):
    attempt_id = live.dialer.call(NUMBER, purpose="courtesy", script="courtesy",
                                  params={"name": "Maria"})
    call = live.sim.phone(NUMBER).expect_call().heard("prema il tasto 1").press("7")
    call.heard("Non ho capito").press("1").ended()

    attempt = _attempt(live, attempt_id)
    assert attempt.outcome == CallOutcome.CONFIRMED
    assert attempt.digits == "71"
    assert attempt.prompts == 2
    assert sum("Buongiorno" in line for line in call.call.heard) == 2
    live.sim.assert_no_unexpected()


@pytest.mark.parametrize(("behaviour", "keys", "outcome"), [
    (Behaviour.NO_ANSWER, None, CallOutcome.NO_ANSWER),
    (Behaviour.BUSY, None, CallOutcome.BUSY),
    (Behaviour.VOICEMAIL, None, CallOutcome.VOICEMAIL),
    (Behaviour.FAIL, None, CallOutcome.FAILED),
    (Behaviour.ANSWER, ["", "", ""], CallOutcome.ANSWERED_NO_INPUT),
    (Behaviour.HANG_UP, None, CallOutcome.ANSWERED_NO_INPUT),
    (Behaviour.ANSWER, ["2", "3", "4"], CallOutcome.ANSWERED_NO_INPUT),
])
def test_it_stores_every_unanswered_outcome(live, behaviour, keys, outcome):
    person = live.sim.person(NUMBER, behaviour, keys)
    attempt_id = live.dialer.call(NUMBER, purpose="courtesy", script="courtesy",
                                  params={"name": "Maria"})

    attempt = _attempt(live, attempt_id)
    assert attempt.outcome == outcome
    assert attempt.confirmed_at is None
    if behaviour == Behaviour.VOICEMAIL:
        assert attempt.answered_by == "machine_end_beep"
        assert any("La richiameremo" in line for line in person.heard)
    if keys == ["", "", ""]:
        # Silence: the prompt is played three times, then a goodbye.
        assert sum("Buongiorno" in line for line in person.heard) == 3
        assert "Non abbiamo ricevuto risposta" in person.heard[-1]
    live.sim.wait_idle()
    live.sim.assert_no_unexpected()


def test_it_speaks_english_to_an_english_speaker_with_the_configured_voice(live):
    live.dialer.call(NUMBER, purpose="courtesy", script="courtesy", language="en",
                     params={"name": "John"})
    call = live.sim.phone(NUMBER).expect_call().heard("Good morning John").press("1").ended()
    assert call.call.heard[-1].startswith("Thank you")
    live.sim.assert_no_unexpected()


def test_it_bridges_an_operator_when_the_person_presses_0(live):
    attempt_id = live.dialer.call(NUMBER, purpose="courtesy", script="courtesy",
                                  params={"name": "Maria", "operator": "+390287654321"})
    call = live.sim.phone(NUMBER).expect_call().heard("operatore").press("0").ended()
    assert call.call.dialed == ["+390287654321"]
    assert _attempt(live, attempt_id).outcome == CallOutcome.ANSWERED_NO_INPUT
    live.sim.assert_no_unexpected()


def test_it_shows_the_test_a_webhook_that_answers_non_2xx(live):
    from telecare.telephony.port import OutboundCall

    # A call whose TwiML URL names no attempt of ours: our app answers 404.
    live.telephony.place_call(OutboundCall(
        NUMBER, f"{live.public_url}/twilio/calls/999999/voice",
        f"{live.public_url}/twilio/calls/999999/status"))
    # The first 404 fails the waiting test at once, naming the webhook.
    with pytest.raises(AssertionError, match="/twilio/calls/999999/.*: 404"):
        live.sim.phone(NUMBER).expect_call().ended()
    assert live.sim.calls[0].done.wait(10)
    assert any(" 404 " in error for error in live.sim.errors)
    with pytest.raises(AssertionError, match="answered the stand-in badly"):
        live.sim.assert_no_unexpected()
    live.sim.errors.clear()


def test_it_hangs_up_a_call_in_progress(live):
    attempt_id = live.dialer.call(NUMBER, purpose="courtesy", script="courtesy",
                                  params={"name": "Maria"})
    call = live.sim.phone(NUMBER).expect_call().heard("Buongiorno")
    live.telephony.hang_up(call.call.sid)
    call.ended()
    attempt = _attempt(live, attempt_id)
    assert attempt.outcome == CallOutcome.ANSWERED_NO_INPUT
    assert call.call.pressed == []
    live.sim.assert_no_unexpected()


def test_it_stores_canceled_when_we_hang_up_a_call_still_ringing(live):
    live.sim.person(NUMBER, Behaviour.RING)
    attempt_id = live.dialer.call(NUMBER, purpose="courtesy", script="courtesy",
                                  params={"name": "Maria"})
    call = live.sim.wait_for(lambda: live.sim.calls and live.sim.calls[0].status == "ringing"
                             and live.sim.calls[0], 10, "the call to ring")
    live.telephony.hang_up(call.sid)
    assert _attempt(live, attempt_id).outcome == CallOutcome.CANCELED
    assert call.heard == []
