"""The ladder of one alarm: its policy made concrete, and the engine's decisions on it.

Plain functions of data and `now`; the engine does the reading and writing around them.
A rung is a dict (it is stored as JSON on the alarm):
{"action": "contacts", "timeout_s": 90, "targets": [{"target": "contact-7", "name": "Anna",
 "relation": "neighbour", "number": "+39...", "language": "it", "channels": ["voice", "sms"]}]}
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.policy import Policy
from telecare.models import Enrollee, Relation

FINAL_ACTIONS = ("supervisor", "emergency")


def make_ladder(policy: Policy, enrollee: Enrollee | None,
                supervisor_numbers: list[str]) -> list[dict]:
    """The policy's steps with this person's numbers; a step with nobody to call is left out."""
    rungs: list[dict] = []
    for step in policy.steps:
        # Quiet hours travel with the ladder: an edit of the policy changes no running alarm.
        base = {"action": step.action, "timeout_s": step.timeout_s,
                "quiet_hours": policy.quiet_hours}
        if step.action == "callback":
            phone = enrollee.phones[0].number if enrollee and enrollee.phones else ""
            if phone:
                rungs.append(base | {"targets": [{
                    "target": "enrollee", "name": enrollee.full_name, "relation": "enrollee",
                    "number": phone, "language": enrollee.language, "channels": ["voice"]}]})
        elif step.action in ("contacts", "doctor"):
            doctors = step.action == "doctor"
            for contact in (enrollee.contacts if enrollee else []):
                if (contact.relation == Relation.DOCTOR) != doctors:
                    continue
                channels = ["voice", "sms"] if contact.can_sms else ["voice"]
                rungs.append(base | {"targets": [{
                    "target": f"contact-{contact.id}", "name": contact.name,
                    "relation": contact.relation.value, "holds_key": contact.holds_key,
                    "number": contact.phone, "language": contact.language,
                    "channels": channels}]})
        elif step.action == "supervisor":
            rungs.append(base | {"targets": [
                {"target": f"supervisor-{i}", "name": "supervisor", "relation": "supervisor",
                 "number": number, "language": "it", "channels": ["sms"]}
                for i, number in enumerate(supervisor_numbers, start=1)]})
        else:
            rungs.append(base | {"targets": []})
    # The last rung waits for an operator, whatever the policy's last timeout said.
    if rungs:
        rungs[-1]["timeout_s"] = None
    return rungs


def next_rung(ladder: list[dict], step: int, now: datetime, time_box_at: datetime | None,
              escalated: bool) -> tuple[int | None, bool]:
    """The rung to run next and whether the time box forced it; None when the ladder is done."""
    if time_box_at is not None and now >= time_box_at and not escalated:
        for index, rung in enumerate(ladder):
            if index > step and rung["action"] in FINAL_ACTIONS:
                return index, True
    if step + 1 < len(ladder):
        return step + 1, False
    return None, False


def due_after(rung: dict, now: datetime, time_box_at: datetime | None,
              escalated: bool) -> datetime | None:
    """When the engine must look at the alarm again after starting `rung`."""
    due = now + timedelta(seconds=rung["timeout_s"]) if rung.get("timeout_s") else None
    if time_box_at is not None and not escalated and rung["action"] not in FINAL_ACTIONS:
        due = min(due, time_box_at) if due else time_box_at
    return due


def notification_key(alarm_id: int, step: int, target: str, channel: str,
                     attempt: int = 1) -> str:
    """Unique per call or text: a retry or a second process finds it taken."""
    return f"{alarm_id}:{step}:{target}:{channel}:{attempt}"
