"""Reading escalation policies: the shipped file, a default for unlisted kinds, clear errors."""

from __future__ import annotations

import pytest

from alerts.policy import load_book, parse_policy
from telecare.errors import ValidationFailed
from telecare.models import AlarmKind
from telecare.settings import AlertsSettings, Settings

SERVICES = '[emergency.services]\ngeneral = { name = "112", number = "112" }\n'


def book_from(tmp_path, text: str):
    path = tmp_path / "escalation.toml"
    path.write_text(text)
    return load_book(Settings(alerts=AlertsSettings(policies_file=str(path))))


def test_the_shipped_file_has_a_ladder_ending_in_the_emergency_step_for_a_press():
    book = load_book(Settings())
    assert set(book.policies) == {kind.value for kind in AlarmKind}
    button = book.policies["button"]
    assert [s.action for s in button.steps][-1] == "emergency"
    assert button.time_box_minutes == 10 and not button.quiet_hours
    assert book.service_for("fall").number == "112"


def test_a_default_table_serves_the_kinds_without_their_own(tmp_path):
    book = book_from(tmp_path, """
[policies.button]
time_box_minutes = 5
ack_timeout_minutes = 30
steps = [{ action = "callback", timeout_s = 30 }, { action = "emergency" }]
[policies.default]
time_box_minutes = 60
ack_timeout_minutes = 60
quiet_hours = true
steps = [{ action = "queue" }]
""" + SERVICES)
    assert [s.action for s in book.policies["button"].steps] == ["callback", "emergency"]
    assert book.policies["low_battery"].quiet_hours
    assert [s.action for s in book.policies["fall"].steps] == ["queue"]


def test_it_names_the_kinds_left_without_a_policy(tmp_path):
    with pytest.raises(ValueError, match="no policy for fall, help_requested"):
        book_from(tmp_path, """
[policies.button]
time_box_minutes = 5
ack_timeout_minutes = 30
steps = [{ action = "emergency" }]
""" + SERVICES)


def test_it_names_each_wrong_field_of_a_policy():
    with pytest.raises(ValidationFailed) as failed:
        parse_policy("button", {"time_box_minutes": 0, "ack_timeout_minutes": 30,
                                "steps": [{"action": "queue"}, {"action": "dance"}]})
    assert [e.field for e in failed.value.errors] == ["time_box_minutes", "steps[1]",
                                                      "steps[2]"]
