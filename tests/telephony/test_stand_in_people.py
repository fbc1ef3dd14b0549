"""The stand-in's people as a simulation uses them: cast by number, listening, keeping silent.

The demo's city is cast this way (telecare/commands/demo_people.py): every number rung gets
a Person from a function, and a person can act on what they hear (press their pendant when
the weekly call asks) while the line stays silent, waiting for the signal.
"""

from __future__ import annotations

import threading

import pytest
import requests

from telecare.twilio_sim import Behaviour, Person, TwilioSim
from telecare.twilio_sim.resources import API_VERSION
from tests.telephony.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_NUMBER

NUMBER = "+390212345678"
TWIML = ("<Response><Gather numDigits='1' timeout='8'><Say>Prema il pulsante.</Say></Gather>"
         "<Say>Grazie.</Say></Response>")


@pytest.fixture
def make_sim():
    sims = []

    def make(**options) -> TwilioSim:
        sim = TwilioSim(ACCOUNT_SID, AUTH_TOKEN, **options).start()
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.stop()


def place(sim: TwilioSim, to: str = NUMBER) -> str:
    response = requests.post(f"{sim.url}/{API_VERSION}/Accounts/{ACCOUNT_SID}/Calls.json",
                             data={"To": to, "From": SERVICE_NUMBER, "Twiml": TWIML},
                             auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["sid"]


def hang_up(sim: TwilioSim, sid: str) -> None:
    response = requests.post(f"{sim.url}/{API_VERSION}/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
                             data={"Status": "completed"}, auth=(ACCOUNT_SID, AUTH_TOKEN),
                             timeout=10)
    assert response.status_code == 200, response.text


def test_a_number_nobody_scripted_is_played_by_the_cast_and_its_listener_hears_each_line(
        make_sim):
    heard: list[tuple[str, str]] = []
    cast_numbers: list[str] = []

    def cast(number: str) -> Person:
        cast_numbers.append(number)
        return Person(number, Behaviour.ANSWER, ["7"],
                      on_hear=lambda person, line: heard.append((person.number, line)))

    sim = make_sim(cast=cast)
    sid = place(sim)
    sim.wait_for(sim.calls_by_sid[sid].done.is_set, 10, "the call to end")
    sim.person(NUMBER)  # asked again: the same person, not cast twice
    assert cast_numbers == [NUMBER]
    # The key ends the <Gather>; inline TwiML has nowhere to send it, so the call ends there.
    assert heard == [(NUMBER, "Prema il pulsante.")]
    assert sim.calls_by_sid[sid].pressed == ["7"]
    # A number scripted by hand is still the script's, whatever the cast would say.
    scripted = sim.person("+390287654321", Behaviour.BUSY)
    assert sim.person("+390287654321") is scripted and cast_numbers == [NUMBER]


def test_a_scripted_silence_lasts_the_gathers_timeout_so_the_world_can_act_meanwhile(make_sim):
    """Scaled like a <Pause>: a hang-up during the silence lands there, and the line after
    the <Gather> is never heard. With the default scale (0) nobody waits."""
    asked = threading.Event()

    def listening(_person: Person, line: str) -> None:
        if "pulsante" in line:
            asked.set()

    sim = make_sim(pause_scale=1000.0, cast=lambda number: Person(
        number, Behaviour.ANSWER, [""], on_hear=listening))
    sid = place(sim)
    sim.wait_for(asked.is_set, 10, "the request to be heard")
    hang_up(sim, sid)
    call = sim.calls_by_sid[sid]
    sim.wait_for(call.done.is_set, 10, "the call to end")
    assert call.heard == ["Prema il pulsante."]

    quick = make_sim()
    quick.person(NUMBER, Behaviour.ANSWER, [""])
    sid = place(quick)
    quick.wait_for(quick.calls_by_sid[sid].done.is_set, 10, "the call to end")
    assert quick.calls_by_sid[sid].heard == ["Prema il pulsante.", "Grazie."]


def test_a_listener_that_fails_does_not_end_the_call(make_sim):
    def clumsy(_person: Person, _line: str) -> None:
        raise RuntimeError("dropped the pendant")

    sim = make_sim(cast=lambda number: Person(number, Behaviour.ANSWER, [""], on_hear=clumsy))
    sid = place(sim)
    call = sim.calls_by_sid[sid]
    sim.wait_for(call.done.is_set, 10, "the call to end")
    assert call.heard == ["Prema il pulsante.", "Grazie."] and call.status == "completed"
