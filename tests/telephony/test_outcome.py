"""One outcome per attempt, from Twilio's final status, AnsweredBy and the key pressed."""

from __future__ import annotations

import pytest

from telecare.models import CallOutcome
from telecare.settings import SettingsError, load_settings
from telecare.telephony.outcome import call_outcome


@pytest.mark.parametrize(("status", "answered_by", "confirmed", "outcome"), [
    ("completed", "human", True, CallOutcome.CONFIRMED),
    ("completed", "human", False, CallOutcome.ANSWERED_NO_INPUT),
    ("completed", "", False, CallOutcome.ANSWERED_NO_INPUT),
    ("completed", "machine_end_beep", False, CallOutcome.VOICEMAIL),
    ("completed", "machine_start", False, CallOutcome.VOICEMAIL),
    ("completed", "fax", False, CallOutcome.VOICEMAIL),
    ("no-answer", "", False, CallOutcome.NO_ANSWER),
    ("busy", "", False, CallOutcome.BUSY),
    ("failed", "", False, CallOutcome.FAILED),
    ("canceled", "", False, CallOutcome.CANCELED),
])
def test_it_gives_each_ending_its_outcome(status, answered_by, confirmed, outcome):
    assert call_outcome(status, answered_by, confirmed) == outcome


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress"])
def test_it_gives_no_outcome_while_the_call_goes_on(status):
    assert call_outcome(status, "human", False) is None


def test_it_reads_the_telephony_settings_from_the_environment():
    settings = load_settings({"TELECARE_TELEPHONY_CALLS_PER_SECOND": "5",
                              "TELECARE_TELEPHONY_VOICES": "it=Polly.Carla, en=Polly.Brian"})
    assert settings.telephony.calls_per_second == 5
    assert settings.telephony.voices == ["it=Polly.Carla", "en=Polly.Brian"]
    assert settings.telephony.contact_calls == 3


def test_it_refuses_a_rate_below_one_call_per_second():
    with pytest.raises(SettingsError, match="TELECARE_TELEPHONY_CALLS_PER_SECOND"):
        load_settings({"TELECARE_TELEPHONY_CALLS_PER_SECOND": "0"})
