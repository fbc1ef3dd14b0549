"""From Twilio's call status, AnsweredBy and the keys pressed to one outcome per attempt."""

from __future__ import annotations

from telecare.models import CallOutcome

# Twilio's final CallStatus values; "completed" means someone or something picked up.
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_UNANSWERED = {"busy": CallOutcome.BUSY, "failed": CallOutcome.FAILED,
               "no-answer": CallOutcome.NO_ANSWER, "canceled": CallOutcome.CANCELED}


def is_machine(answered_by: str) -> bool:
    # AnsweredBy: human, machine_start, machine_end_beep, machine_end_silence,
    # machine_end_other, fax, unknown.
    return answered_by.startswith("machine") or answered_by == "fax"


def call_outcome(status: str, answered_by: str, confirmed: bool) -> CallOutcome | None:
    """The outcome of a call that ended with `status`; None while it is still going."""
    if status not in FINAL_STATUSES:
        return None
    if status in _UNANSWERED:
        return _UNANSWERED[status]
    if confirmed:
        return CallOutcome.CONFIRMED
    if is_machine(answered_by):
        return CallOutcome.VOICEMAIL
    return CallOutcome.ANSWERED_NO_INPUT
