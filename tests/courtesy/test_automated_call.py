"""The automated weekly call end to end: the caller dials, the stand-in's person answers
(or not) over real HTTP, and the retry and alarm rules follow. The clock is the test's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from telecare.models import (
    AlarmKind,
    ButtonCheck,
    CallAttempt,
    CallResult,
    Device,
    PlannedCallState,
)
from telecare.twilio_sim import Behaviour
from tests.courtesy.conftest import LANDLINE, OPERATORS, START


def test_three_unanswered_attempts_open_exactly_one_missed_calls_alarm(calls):
    calls.sim.person(LANDLINE, Behaviour.NO_ANSWER)
    maria = calls.enrol()
    planned_id = calls.plan(maria)

    calls.sweep()
    first = calls.planned(planned_id)
    assert (first.state, first.attempts) == (PlannedCallState.PLANNED, 1)
    assert first.next_attempt_at == START + timedelta(minutes=30)
    assert calls.alarms(maria) == []

    assert calls.sweep(after_s=29 * 60).placed == []  # not yet due
    calls.sweep(after_s=60)
    second = calls.planned(planned_id)
    assert second.attempts == 2
    assert second.next_attempt_at == calls.clock.now() + timedelta(hours=2)
    assert calls.alarms(maria) == []

    calls.sweep(after_s=2 * 3600)
    missed = calls.planned(planned_id)
    assert (missed.state, missed.result, missed.attempts) == (
        PlannedCallState.MISSED, CallResult.NO_ANSWER, 3)
    [alarm] = calls.alarms(maria)
    assert alarm.kind == AlarmKind.MISSED_COURTESY_CALLS
    assert alarm.opened_at == calls.clock.now()
    assert missed.alarm_id == alarm.id
    assert [entry.result for entry in missed.log] == [CallResult.NO_ANSWER] * 3

    calls.sweep(after_s=6 * 3600)  # nothing more to ring, no second alarm
    assert [call.to for call in calls.sim.calls] == [LANDLINE] * 3
    assert len(calls.alarms(maria)) == 1


def test_voicemail_is_no_answer(calls):
    calls.sim.person(LANDLINE, Behaviour.VOICEMAIL)
    maria = calls.enrol()
    planned_id = calls.plan(maria)
    calls.sweep()
    planned = calls.planned(planned_id)
    assert (planned.state, planned.attempts) == (PlannedCallState.PLANNED, 1)
    assert [(e.result, e.detail) for e in planned.log] == [(CallResult.NO_ANSWER, "voicemail")]
    [call] = calls.sim.calls
    assert any("La richiameremo" in line for line in call.heard)


def test_pressing_9_opens_help_requested_at_once(calls):
    maria = calls.enrol()
    planned_id = calls.plan(maria)
    calls.caller.run_once()
    call = calls.sim.phone(LANDLINE).expect_call()
    call.heard(f"Buongiorno {calls.name(maria)}").heard("prema il tasto 9").press("9")
    call.heard("stiamo mandando aiuto")
    [alarm] = calls.alarms(maria)  # before the call has even ended
    assert alarm.kind == AlarmKind.HELP_REQUESTED
    call.ended()
    calls.settle()
    planned = calls.planned(planned_id)
    assert (planned.state, planned.result, planned.alarm_id) == (
        PlannedCallState.DONE, CallResult.HELP, alarm.id)
    assert len(calls.alarms(maria)) == 1
    calls.sim.assert_no_unexpected()


def test_the_button_pressed_during_the_call_marks_the_device_verified(calls):
    calls.news[:] = ["Ondata di calore a Milano: beva molta acqua."]
    maria = calls.enrol()
    planned_id = calls.plan(maria)
    calls.caller.run_once()
    call = calls.sim.phone(LANDLINE).expect_call()
    call.heard("telefonata della settimana").press("1")
    call.heard("Ondata di calore a Milano").heard("Prema adesso il pulsante")
    calls.clock.advance(20)
    calls.press_alarm_button_test(maria)
    call.stay_silent().heard("il telecomando funziona").ended()
    calls.settle()
    planned = calls.planned(planned_id)
    assert (planned.state, planned.result, planned.button_check) == (
        PlannedCallState.DONE, CallResult.WELL, ButtonCheck.VERIFIED)
    with calls.sessions() as session:
        device = session.scalars(select(Device).where(Device.enrollee_id == maria)).one()
        assert device.last_test_at == START + timedelta(seconds=20)
        attempt = session.get(CallAttempt, planned.call_attempt_id)
        assert attempt.outcome.value == "confirmed"
    assert calls.alarms(maria) == []
    calls.sim.assert_no_unexpected()


def test_no_button_signal_within_a_minute_flags_a_device_check(calls):
    maria = calls.enrol()
    planned_id = calls.plan(maria)
    calls.caller.run_once()
    call = calls.sim.phone(LANDLINE).expect_call()
    call.heard("Buongiorno").press("1").heard("Prema adesso il pulsante")
    call.stay_silent()
    calls.wait_for_button_look(planned_id)  # the minute starts once the request is said
    calls.clock.advance(61)
    call.stay_silent().heard("non è arrivato").ended()
    calls.settle()
    planned = calls.planned(planned_id)
    assert (planned.state, planned.result, planned.button_check) == (
        PlannedCallState.DONE, CallResult.WELL, ButtonCheck.FLAGGED)


def test_silence_twice_is_no_answer_and_the_greeting_was_repeated_once(calls):
    maria = calls.enrol(device=False)
    planned_id = calls.plan(maria)
    calls.caller.run_once()
    call = calls.sim.phone(LANDLINE).expect_call()
    call.heard("Buongiorno").stay_silent()
    call.stay_silent().heard("La richiameremo").ended()
    calls.settle()
    greetings = [line for line in call.call.heard if "Buongiorno" in line]
    assert len(greetings) == 2
    planned = calls.planned(planned_id)
    assert (planned.state, planned.attempts) == (PlannedCallState.PLANNED, 1)
    assert planned.log[0].result == CallResult.NO_ANSWER


def test_0_puts_the_person_through_to_an_operator(calls):
    maria = calls.enrol(device=False)
    planned_id = calls.plan(maria)
    calls.caller.run_once()
    call = calls.sim.phone(LANDLINE).expect_call()
    call.heard("Buongiorno").press("0").heard("la metto in contatto").ended()
    calls.settle()
    assert call.call.dialed == [OPERATORS]
    assert calls.planned(planned_id).result == CallResult.OPERATOR


def test_a_birthday_call_greets_and_checks_no_button(calls):
    maria = calls.enrol()
    planned_id = calls.plan(maria, kind="birthday")
    calls.caller.run_once()
    call = calls.sim.phone(LANDLINE).expect_call()
    call.heard("tanti auguri").press("1").heard("buona settimana").ended()
    calls.settle()
    planned = calls.planned(planned_id)
    assert (planned.result, planned.button_check) == (CallResult.WELL, None)


def test_a_wrong_number_opens_the_alarm_at_once(calls):
    calls.sim.person(LANDLINE, Behaviour.INVALID)
    maria = calls.enrol()
    planned_id = calls.plan(maria)
    calls.sweep()
    planned = calls.planned(planned_id)
    assert (planned.state, planned.result, planned.attempts) == (
        PlannedCallState.MISSED, CallResult.WRONG_NUMBER, 1)
    [alarm] = calls.alarms(maria)
    assert alarm.kind == AlarmKind.MISSED_COURTESY_CALLS


def test_nobody_is_rung_at_night_and_overdue_calls_are_made_in_the_morning(calls):
    maria = calls.enrol()
    evening = START.replace(hour=19, minute=30)  # 20:30 in Milan: past the calling day
    planned_id = calls.plan(maria, at=evening)
    calls.clock.at = evening
    assert calls.sweep().placed == []
    assert calls.sweep(after_s=10 * 3600).placed == []  # 06:30 local
    calls.sim.person(LANDLINE, Behaviour.ANSWER, ["1"])
    assert calls.sweep(after_s=2 * 3600).placed == []  # 08:30 local
    assert calls.sweep(after_s=3600).placed == [planned_id]  # 09:30 local
    assert calls.planned(planned_id).state == PlannedCallState.DONE


def test_the_minute_for_the_button_starts_after_the_news_is_read(calls):
    calls.news[:] = ["Ondata di calore a Milano: beva molta acqua."] * 6
    maria = calls.enrol()
    planned_id = calls.plan(maria)
    calls.caller.run_once()
    call = calls.sim.phone(LANDLINE).expect_call()
    call.heard("Buongiorno").press("1")
    calls.clock.advance(57)  # a week of warnings read aloud
    call.heard("Prema adesso il pulsante").stay_silent()
    calls.wait_for_button_look(planned_id)
    calls.clock.advance(30)
    calls.press_alarm_button_test(maria)
    call.stay_silent().heard("il telecomando funziona").ended()
    calls.settle()
    assert calls.planned(planned_id).button_check == ButtonCheck.VERIFIED


def test_9_during_the_button_check_still_asks_for_help(calls):
    maria = calls.enrol()
    planned_id = calls.plan(maria)
    calls.caller.run_once()
    call = calls.sim.phone(LANDLINE).expect_call()
    call.heard("Buongiorno").press("1").heard("Prema adesso il pulsante").press("9")
    call.heard("stiamo mandando aiuto").ended()
    calls.settle()
    [alarm] = calls.alarms(maria)
    assert alarm.kind == AlarmKind.HELP_REQUESTED
    assert calls.planned(planned_id).result == CallResult.HELP
