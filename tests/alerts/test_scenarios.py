"""The escalation ladder end to end: engine, Twilio stand-in, webhooks, a clock we move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from telecare.models import AlarmKind, AlarmState, DeviceCommand, Outcome, Severity
from telecare.twilio_sim import Behaviour
from tests.alerts.conftest import ANNA, DOCTOR, LANDLINE, PAOLO, SUPERVISOR


def test_nobody_answers_and_the_ladder_reaches_the_emergency_step_within_the_time_box(ladder):
    sim = ladder.sim
    for number in (LANDLINE, ANNA, PAOLO, DOCTOR):
        sim.person(number, Behaviour.NO_ANSWER)
    alarm_id, _ = ladder.taken_up()  # the operators' queue first
    assert ladder.rungs(alarm_id) == ["queue"]
    assert sim.calls == []
    ladder.step(after_s=30)  # the call-back rings out; the contacts follow at once
    for _ in range(3):  # Anna (call and text), Paolo, the doctor: each rings out
        ladder.step()
    sim.phone(ANNA).expect_sms("OK")
    ladder.step()  # the supervisor is texted
    sim.phone(SUPERVISOR).expect_sms("senza presa in carico")
    ladder.step(after_s=60)  # the supervisor's minute passes: the emergency step

    alarm = ladder.alarm(alarm_id)
    assert ladder.rungs(alarm_id) == ["queue", "callback", "contacts", "contacts", "doctor",
                                      "supervisor", "emergency"]
    assert ladder.called() == [LANDLINE, ANNA, PAOLO, DOCTOR]
    assert alarm.state == AlarmState.OPEN
    assert alarm.escalated_at - alarm.opened_at <= timedelta(minutes=10)
    emergency = ladder.timeline(alarm_id, "step")[-1].detail
    assert (emergency["service"], emergency["number"]) == ("Emergenza sanitaria", "112")
    outcomes = [e.detail["outcome"] for e in ladder.timeline(alarm_id, "call_ended")]
    assert outcomes == ["no_answer"] * 4

    ladder.step(after_s=3600)  # nothing rings any more: the operator has the emergency step
    assert len(sim.calls) == 4 and alarm.next_step_at is None
    sim.wait_idle()
    sim.assert_no_unexpected()


def test_the_time_box_cuts_the_ladder_short_and_goes_to_the_supervisor(ladder):
    sim = ladder.sim
    for number in (LANDLINE, ANNA):
        sim.person(number, Behaviour.NO_ANSWER)
    alarm_id, _ = ladder.taken_up()
    ladder.step(after_s=30)  # the call-back
    ladder.step()  # Anna
    sim.phone(ANNA).expect_sms("OK")

    ladder.step(after_s=10 * 60)  # ten minutes on: Paolo and the doctor are skipped
    sim.phone(SUPERVISOR).expect_sms("senza presa in carico")

    assert ladder.rungs(alarm_id) == ["queue", "callback", "contacts", "supervisor"]
    assert [e.detail["step"] for e in ladder.timeline(alarm_id, "time_box")] == [5]
    assert ladder.called() == [LANDLINE, ANNA]
    sim.wait_idle()
    sim.assert_no_unexpected()


def test_a_neighbour_pressing_1_stops_the_ladder_and_the_device_hears_help_coming(ladder):
    sim = ladder.sim
    sim.person(LANDLINE, Behaviour.NO_ANSWER)
    alarm_id, device_id = ladder.taken_up()
    ladder.step(after_s=30)

    ladder.clock.advance(5)
    ladder.engine.run_once()  # Anna's rung: her phone rings and she is texted
    sim.phone(ANNA).expect_call().heard("ha chiesto aiuto").press("1").heard(
        "preso in carico").ended()
    sim.phone(ANNA).expect_sms(f"OK {ladder.alarm(alarm_id).code}")
    ladder.settle()

    alarm = ladder.alarm(alarm_id)
    assert alarm.state == AlarmState.ACKNOWLEDGED
    assert (alarm.acknowledged_via, ladder.timeline(alarm_id, "acknowledged")[0].actor) == (
        "voice", "contact:Anna Verdi")
    with ladder.sessions() as session:
        command = session.scalars(select(DeviceCommand)).one()
        assert (command.device_id, command.command, command.fields) == (
            device_id, "help_coming", {"alarm": alarm_id})

    ladder.step(after_s=20 * 60)  # well past every timeout: nobody else is phoned
    assert ladder.called() == [LANDLINE, ANNA]
    assert ladder.rungs(alarm_id) == ["queue", "callback", "contacts"]
    sim.wait_idle()
    sim.assert_no_unexpected()


def test_an_ok_and_the_code_by_sms_takes_charge_as_well(ladder):
    sim = ladder.sim
    sim.person(LANDLINE, Behaviour.NO_ANSWER)
    sim.person(ANNA, Behaviour.NO_ANSWER)
    alarm_id, _ = ladder.taken_up()
    ladder.step(after_s=30)
    ladder.step()  # Anna's call rings out; her text arrives
    code = ladder.alarm(alarm_id).code
    sim.phone(ANNA).expect_sms(f"OK {code}")

    assert sim.receive_sms(ANNA, f"Ok, {code}!") is not None
    alarm = ladder.alarm(alarm_id)
    assert (alarm.state, alarm.acknowledged_via) == (AlarmState.ACKNOWLEDGED, "sms")
    with ladder.sessions() as session:
        assert session.scalars(select(DeviceCommand.command)).all() == ["help_coming"]

    ladder.step(after_s=30 * 60 - 1)
    assert ladder.called() == [LANDLINE, ANNA]
    sim.wait_idle()
    sim.assert_no_unexpected()


def test_the_person_pressing_1_on_the_call_back_marks_a_probable_false_alarm(ladder):
    sim = ladder.sim
    alarm_id, _ = ladder.taken_up()
    ladder.call_back()
    sim.phone(LANDLINE).expect_call().heard("Se sta bene").press("1").heard(
        "ne siamo contenti").ended()
    ladder.settle()

    alarm = ladder.alarm(alarm_id)
    assert alarm.probable_false_alarm and alarm.state == AlarmState.ACKNOWLEDGED
    assert alarm.acknowledged_via == "enrollee" and alarm.outcome is None  # an operator closes it
    ladder.step(after_s=15 * 60)
    assert ladder.called() == [LANDLINE]
    sim.wait_idle()
    sim.assert_no_unexpected()


def test_the_person_pressing_9_hands_over_to_the_contacts_at_once(ladder):
    sim = ladder.sim
    sim.person(ANNA, Behaviour.NO_ANSWER)
    alarm_id, _ = ladder.taken_up()
    ladder.call_back()
    sim.phone(LANDLINE).expect_call().heard("Se sta bene").press("9").heard(
        "stiamo mandando aiuto").ended()
    ladder.settle()
    ladder.step()  # no waiting out the call-back's minute: Anna now

    assert ladder.called() == [LANDLINE, ANNA]
    assert [e.kind for e in ladder.timeline(alarm_id)].count("enrollee_needs_help") == 1
    assert ladder.alarm(alarm_id).state == AlarmState.OPEN
    sim.phone(ANNA).expect_sms("OK")
    sim.wait_idle()
    sim.assert_no_unexpected()


def test_acknowledged_but_never_resolved_comes_back_to_the_queue(ladder):
    sim = ladder.sim
    alarm_id, _ = ladder.taken_up()
    ladder.call_back()
    sim.phone(LANDLINE).expect_call().press("1").ended()
    ladder.settle()
    assert ladder.alarm(alarm_id).state == AlarmState.ACKNOWLEDGED

    ladder.step(after_s=30 * 60)  # the acknowledgement timeout
    alarm = ladder.alarm(alarm_id)
    assert alarm.state == AlarmState.OPEN and alarm.first_acknowledged_at is not None
    assert [e.kind for e in ladder.timeline(alarm_id)][-1] == "requeued"
    assert alarm.outcome != Outcome.FALSE_ALARM
    sim.wait_idle()
    sim.assert_no_unexpected()


def test_a_gentle_ladder_phones_nobody_at_night(ladder):
    ladder.sim.person(LANDLINE, Behaviour.NO_ANSWER)
    ladder.clock.at = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # 23:00 in Milan
    alarm_id, _ = ladder.taken_up(AlarmKind.DEVICE_OFFLINE, Severity.LOW)  # the queue
    ladder.step(after_s=30 * 60)  # the call-back is due at 23:30: it waits for the morning

    [deferred] = ladder.timeline(alarm_id, "deferred")
    assert deferred.detail["until"] == "2026-12-01T07:00:00+00:00"  # 08:00 in Milan
    assert ladder.called() == []
    ladder.clock.at = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    ladder.step()
    assert ladder.called() == [LANDLINE]
    # The night did not count against the four-hour time box: no jump to the supervisor.
    assert ladder.rungs(alarm_id) == ["queue", "callback"]
    assert ladder.timeline(alarm_id, "time_box") == []
    ladder.sim.wait_idle()
    ladder.sim.assert_no_unexpected()


def test_a_call_claimed_by_an_engine_that_stopped_is_given_up_once_and_shown(ladder):
    alarm_id, _ = ladder.taken_up()
    ladder.clock.advance(30)
    ladder.engine.sweep()  # the call-back is decided...
    assert len(ladder.engine.claim_pending()) == 1  # ...and claimed by an engine that then died

    ladder.clock.advance(3 * 60)
    assert ladder.engine.claim_pending() == []
    [failed] = ladder.timeline(alarm_id, "voice_failed")
    assert "abandoned" in failed.detail["error"]
    assert ladder.engine.claim_pending() == [] and len(ladder.timeline(alarm_id,
                                                                       "voice_failed")) == 1
    assert ladder.called() == []  # never placed, so never placed twice


def test_an_unanswered_heat_check_is_said_as_such_to_the_person_and_to_the_neighbour(ladder):
    sim = ladder.sim
    alarm_id, _ = ladder.taken_up(AlarmKind.HEAT_CHECK_UNANSWERED, Severity.HIGH)
    ladder.clock.advance(15 * 60)  # the operators' quarter of an hour: the person called back
    ladder.engine.run_once()
    callback = sim.phone(LANDLINE).expect_call().heard(
        "La chiamiamo per sapere come sta con questo caldo")
    assert not any("richiesta di aiuto" in line for line in callback.call.heard)
    callback.hang_up().ended()
    ladder.settle()

    ladder.clock.advance(15 * 60)
    ladder.engine.run_once()  # Anna's rung: she hears why, not that Maria asked for help
    name = ladder.enrollee_name(alarm_id)
    sim.phone(ANNA).expect_call().heard(
        f"Non riusciamo a raggiungere {name}: con l'ondata di calore non ha risposto "
        "alle nostre telefonate. Abita in Via Padova 10, piano 3.").press("1").heard(
        "preso in carico").ended()
    text = sim.phone(ANNA).expect_sms(f"OK {ladder.alarm(alarm_id).code}")
    assert f"non riusciamo a raggiungere {name}" in text.body
    assert "Indirizzo: Via Padova 10, piano 3." in text.body
    assert "ha chiesto aiuto" not in text.body
    ladder.settle()
    assert ladder.alarm(alarm_id).state == AlarmState.ACKNOWLEDGED
    sim.wait_idle()
    sim.assert_no_unexpected()
