"""The automated planned call, as Twilio hears it: greeting, choices, news, the button check.

1. "Good morning <name> ... press 1 if you are well, 9 if you need help, 0 for an operator",
   repeated once on silence.
2. 1: this week's news for the person's municipality, then "press your alarm button now";
   the call waits up to `button_check_s` for the device's `test` event (the bridge records it
   as the device's last test), looking every few seconds between silent <Gather>s.
   9, at any point: a `help_requested` alarm opens at once; "help is on its way".
   0: put through to the operators' line.
3. When Twilio reports the call ended, the attempt's result goes to the retry and alarm rules.

The attempt's own columns carry the state between webhooks: `confirmed_at` once 1 is pressed,
`digits` for 9 and 0, and `prompts` (the greeting's hearings, then the button polls).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from telecare.courtesy import attempts
from telecare.courtesy.calendar import CallCalendar
from telecare.models import (
    ButtonCheck,
    CallAttempt,
    CallOutcome,
    CallResult,
    Device,
    DeviceState,
    PlannedCall,
)
from telecare.settings import Settings
from telecare.telephony.twiml import GATHER_SECONDS, OPERATOR_DIGIT, Script

PURPOSE = "planned_call"
SCRIPT = "planned_greeting"
WELL_DIGIT, HELP_DIGIT = "1", "9"
# The greeting is heard at most twice: once, and once more on silence.
GREETING_HEARINGS = 2
# Seconds between two looks for the button's signal while the line waits.
BUTTON_POLL_S = 10


def params_for(planned: PlannedCall, name: str, news: list[str], check_button: bool,
               operator_number: str) -> dict:
    """What the call needs from the database at the moment it is placed."""
    return {"planned_call": planned.id, "kind": planned.kind.value, "name": name,
            "news": news, "button": check_button, "operator": operator_number}


def voice(session: Session, settings: Settings, attempt: CallAttempt, script: Script,
          urls, now: datetime) -> str:
    """The call was answered, or a <Redirect> came back: greet, or go on waiting."""
    planned = _planned(session, attempt)
    if attempt.confirmed_at is None:
        return _greeting(attempt, script, urls)
    if planned is not None and planned.button_check == ButtonCheck.ASKED:
        return _button_poll(session, settings, planned, attempt, script, urls, now)
    return script.closing("planned_thanks")


def gather(session: Session, settings: Settings, attempt: CallAttempt, script: Script, urls,
           digits: str, now: datetime) -> str:
    planned = _planned(session, attempt)
    if digits == HELP_DIGIT:  # at any point of the call
        if planned is not None:
            attempts.help_requested(session, planned, now)
        return script.closing("help_on_the_way")
    if attempt.confirmed_at is not None:
        return voice(session, settings, attempt, script, urls, now)  # a key during the check
    if digits == WELL_DIGIT:
        attempt.confirmed_at = now
        attempt.prompts = 0  # from here on: the button polls
        return _news_and_button(planned, attempt, script, urls, now)
    if digits == OPERATOR_DIGIT:
        operator = attempt.params.get("operator", "")
        if operator:
            return script.bridge(operator, settings.twilio.from_)
        response = VoiceResponse()
        script.line(response, "operator_unavailable")
        return _greeting(attempt, script, urls, response)
    return _greeting(attempt, script, urls)


def ended(session: Session, settings: Settings, attempt: CallAttempt, now: datetime) -> None:
    """Twilio reported the call's outcome: what the planned call came to."""
    planned = _planned(session, attempt)
    if planned is None or attempt.params.get("attempt") != planned.attempts or \
            planned.call_attempt_id not in (None, attempt.id):
        return  # an earlier attempt's late report; that attempt was settled already
    # The report may come before the caller has noted which call it placed.
    planned.call_attempt_id = attempt.id
    if planned.button_check == ButtonCheck.ASKED:
        # The person may have hung up while pressing: the signal still counts.
        planned.button_check = (ButtonCheck.VERIFIED if _button_pressed(session, planned,
                                                                        attempt)
                                else ButtonCheck.FLAGGED)
    result = result_of(attempt)
    detail = attempt.outcome.value if attempt.outcome else attempt.status
    if attempt.error:
        detail = f"{detail}: {attempt.error}"
    attempts.finish(session, planned, result, settings.calls,
                    CallCalendar.from_settings(settings), now, detail=detail)


def result_of(attempt: CallAttempt) -> CallResult:
    """One attempt's result: only a key press from the person is an answer."""
    if HELP_DIGIT in attempt.digits:
        return CallResult.HELP
    if attempt.confirmed_at is not None:
        return CallResult.WELL
    if OPERATOR_DIGIT in attempt.digits and attempt.params.get("operator"):
        return CallResult.OPERATOR
    if attempt.outcome == CallOutcome.FAILED:
        return CallResult.FAILED
    return CallResult.NO_ANSWER


def _planned(session: Session, attempt: CallAttempt) -> PlannedCall | None:
    planned_id = attempt.params.get("planned_call")
    return session.get(PlannedCall, planned_id) if planned_id else None


def _greeting(attempt: CallAttempt, script: Script, urls,
              response: VoiceResponse | None = None) -> str:
    if attempt.prompts >= GREETING_HEARINGS:
        return script.closing("goodbye")
    attempt.prompts += 1
    response = response or VoiceResponse()
    gather = response.gather(num_digits=1, action=urls.gather, method="POST",
                             timeout=GATHER_SECONDS)
    script.line(gather, SCRIPT, name=attempt.params.get("name", ""),
                kind=attempt.params.get("kind", "courtesy"))
    response.redirect(urls.voice, method="POST")
    return str(response)


def _news_and_button(planned: PlannedCall | None, attempt: CallAttempt, script: Script, urls,
                     now: datetime) -> str:
    """The news, then the button check. Both inside a <Gather>: 9 still asks for help."""
    response = VoiceResponse()
    check_button = planned is not None and attempt.params.get("button")
    news = attempt.params.get("news") or []
    if not news and not check_button:
        return script.closing("planned_thanks")
    listening = _listening(response, urls)
    if news:
        script.line(listening, "planned_news")
        for line in news:
            script.say(listening, line)
            listening.pause(length=1)
    if not check_button:
        script.line(response, "planned_thanks")
        response.hangup()
        return str(response)
    planned.button_check, planned.button_asked_at = ButtonCheck.ASKED, now
    script.line(listening, "button_request")
    response.redirect(urls.voice, method="POST")
    return str(response)


def _listening(response: VoiceResponse, urls):
    """A <Gather> that waits a few seconds for a key after what it says: the line stays
    open for the button's signal and for a 9."""
    return response.gather(num_digits=1, action=urls.gather, method="POST",
                           timeout=BUTTON_POLL_S)


def _button_poll(session: Session, settings: Settings, planned: PlannedCall,
                 attempt: CallAttempt, script: Script, urls, now: datetime) -> str:
    if attempt.prompts == 0:
        # The first look comes once the news and the request have been said: the person's
        # minute starts now, not when they pressed 1 (a week of warnings takes a minute to
        # read, and used to leave them no time at all).
        planned.button_asked_at = now
    if _button_pressed(session, planned, attempt):
        planned.button_check = ButtonCheck.VERIFIED
        return script.closing("button_ok")
    waited = (now - planned.button_asked_at).total_seconds()
    # Bounded by polls as well as by time: a clock that stands still cannot hold the line.
    polls = max(1, settings.calls.button_check_s // BUTTON_POLL_S)
    if waited < settings.calls.button_check_s and attempt.prompts < polls:
        attempt.prompts += 1
        response = VoiceResponse()
        _listening(response, urls)
        response.redirect(urls.voice, method="POST")
        return str(response)
    planned.button_check = ButtonCheck.FLAGGED
    return script.closing("button_flagged")


def _button_pressed(session: Session, planned: PlannedCall, attempt: CallAttempt) -> bool:
    """Did one of the person's devices send its `test` since they answered (a press while
    the news was read, in a hurry to get it done, counts too)?"""
    since = attempt.confirmed_at or planned.button_asked_at
    last_test = session.scalar(select(func.max(Device.last_test_at)).where(
        Device.enrollee_id == planned.enrollee_id, Device.state == DeviceState.ACTIVE))
    return last_test is not None and last_test >= since
