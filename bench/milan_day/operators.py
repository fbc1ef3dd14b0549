"""The operators on shift: they watch the console's alarm queue and, between alarms, ring the
people whose weekly call an operator makes.

Each operator is a console user. What they do goes through the functions the console's
routes call, in one transaction each, audited as the console audits it: `alarms.claim` and
`alarms.acknowledge` to take charge, `alarms.resolve` to close, and the worklist's
`open_next` and `log_outcome` for the weekly calls. The order they take alarms in is the
console's own queue (web.alarm_view.queue): open before taken charge of, worst first,
longest waiting first.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bench.milan_day import figures
from bench.milan_day.agenda import Agenda
from bench.milan_day.people import People
from telecare import alarms, audit
from telecare.actor import Actor
from telecare.courtesy import worklist
from telecare.courtesy.calendar import CallCalendar
from telecare.db import begin_writing, session_scope
from telecare.errors import ValidationFailed
from telecare.models import (
    Alarm,
    AlarmKind,
    AlarmState,
    CallResult,
    Outcome,
    Role,
    Severity,
)
from telecare.settings import Settings
from telecare.users import create_user
from web.alarm_view import queue as console_queue

OUTCOMES = {"false_alarm": Outcome.FALSE_ALARM, "genuine": Outcome.EMERGENCY_SERVICES,
            "help_requested": Outcome.DOCTOR,
            "missed_courtesy_calls": Outcome.RESOLVED_BY_PHONE,
            "heat_check_unanswered": Outcome.RESOLVED_BY_PHONE, "checked": Outcome.FALSE_ALARM}


@dataclass
class WeeklyCall:
    """A weekly call an operator has open from the worklist."""

    planned_id: int
    answered: bool
    breaking_off: bool = False  # an alarm came in: "excuse me, I must take an emergency"
    logged: bool = False


@dataclass
class Operator:
    actor: Actor
    busy: bool = False
    started: datetime | None = None  # when the current alarm or call began
    busy_s: float = 0.0  # time spent on alarms and calls, for the utilisation
    call: WeeklyCall | None = None


class Centre:
    def __init__(self, agenda: Agenda, sessions: sessionmaker[Session], settings: Settings,
                 people: People, rng: random.Random, operators: list[Operator], scale: float):
        self.agenda, self.sessions, self.settings, self.people, self.rng = (
            agenda, sessions, settings, people, rng)
        self.operators, self.scale = operators, scale
        self.zone: ZoneInfo = settings.zone
        self.calendar = CallCalendar.from_settings(settings)
        self.on_it: set[int] = set()  # alarms an operator is on its way to or working
        self.taken: Counter = Counter()  # alarms taken charge of by an operator, by kind
        self.closed = 0
        self.calls: Counter = Counter()  # weekly calls an operator made, by result
        self._looking = False

    @classmethod
    def staffed(cls, agenda, sessions, settings, people, rng, enrollees: int) -> Centre:
        """Console users for the busiest shift, scaled to the number of people served."""
        scale = enrollees / figures.PEOPLE_PER_SHIFT_SCALE
        count = max(1, math.ceil(max(figures.OPERATORS_BY_HOUR) * scale))
        now = agenda.clock.now()
        operators = []
        with session_scope(sessions) as session:
            for n in range(1, count + 1):
                user = create_user(session, f"operatore{n}", f"Operatore {n}", Role.OPERATOR,
                                   f"bench-password-{n}", Actor.system(), now)
                operators.append(Operator(Actor(user.username, user.id)))
        return cls(agenda, sessions, settings, people, rng, operators, scale)

    def on_shift(self) -> list[Operator]:
        hour = self.agenda.clock.now().astimezone(self.zone).hour
        count = max(1, round(figures.OPERATORS_BY_HOUR[hour] * self.scale))
        return self.operators[:count]

    # -- looking at the queue ----------------------------------------------------------------

    def alarm_opened(self, _alarm_id: int) -> None:
        """The live queue shows a new alarm (connected to the core's alarm_opened)."""
        if not self._looking:
            self._looking = True
            self.agenda.after(0, self.look)

    def look(self) -> None:
        """Free operators on shift take what waits: alarms from people first; then, as long
        as another operator stays free for those, the gentler alarms and the weekly calls.
        A person's alarm that finds nobody free brings an operator off a weekly call."""
        self._looking = False
        shift = self.on_shift()
        free = [op for op in shift if not op.busy]
        with self.sessions() as session:
            waiting = [(a.id, a.severity) for a in console_queue(session)[0]
                       if a.id not in self.on_it and a.claimed_by_id is None]
        urgent = [i for i, severity in waiting if severity == Severity.CRITICAL]
        gentle = [i for i, severity in waiting if severity != Severity.CRITICAL]
        while free and urgent:
            self._answer(free.pop(0), urgent.pop(0))
        phoning = [op for op in shift if op.call is not None and not op.call.breaking_off]
        for operator, _alarm in zip(phoning, urgent, strict=False):
            operator.call.breaking_off = True
            self.agenda.after(figures.BREAK_OFF_S, self._log_call, operator, operator.call)
        # Someone always stays free for people's alarms: of two or more on shift, the last
        # free operator leaves the rest be (alone on shift, they must do it all).
        spare = free[:-1] if len(shift) > 1 else free
        while spare and gentle:
            self._answer(spare.pop(0), gentle.pop(0))
        for operator in spare:
            self._weekly_call(operator)

    def _answer(self, operator: Operator, alarm_id: int) -> None:
        """An operator goes for an alarm in the queue: taken charge of once picked up."""
        self._start(operator)
        self.on_it.add(alarm_id)
        self.agenda.after(self._pick_up_s(), self._take_charge, operator, alarm_id)

    def _pick_up_s(self) -> float:
        return self.rng.lognormvariate(math.log(figures.PICK_UP_MEDIAN_S),
                                       figures.PICK_UP_SIGMA)

    # -- an alarm, from taking charge to resolving ---------------------------------------------

    def _take_charge(self, operator: Operator, alarm_id: int) -> None:
        now = self.agenda.clock.now()
        with session_scope(self.sessions) as session:
            begin_writing(session)
            alarm = session.get(Alarm, alarm_id)
            if alarm.state == AlarmState.RESOLVED:
                nature = None
            else:
                nature = self._nature(alarm)
                # What the console's "Take charge" does: claim, then acknowledge if still open.
                alarms.claim(session, alarm, operator.actor, now)
                if alarm.state == AlarmState.OPEN:
                    alarms.acknowledge(session, alarm, operator.actor, "console", now)
                    self.taken[alarm.kind.value] += 1
                audit.record(session, operator.actor, "acknowledge", "alarm", alarm.id, now)
        if nature is None:
            self._done(operator, alarm_id)
            return
        self.agenda.after(self.rng.uniform(*figures.HANDLING_S[nature]), self._resolve,
                          operator, alarm_id, nature)

    def _nature(self, alarm: Alarm) -> str:
        """What the operator finds on the line: the simulation knows what the press was."""
        if alarm.state == AlarmState.ACKNOWLEDGED:
            return "checked"  # the person or a contact took charge: a look and it is closed
        if alarm.kind in (AlarmKind.BUTTON, AlarmKind.FALL):
            return "genuine" if self.people.genuine.get(alarm.enrollee_id) else "false_alarm"
        return alarm.kind.value if alarm.kind.value in figures.HANDLING_S else "checked"

    def _resolve(self, operator: Operator, alarm_id: int, nature: str) -> None:
        now = self.agenda.clock.now()
        with session_scope(self.sessions) as session:
            begin_writing(session)
            alarm = session.get(Alarm, alarm_id)
            if alarm.state != AlarmState.RESOLVED:
                outcome = OUTCOMES.get(nature, Outcome.OTHER)
                alarms.resolve(session, alarm, operator.actor, outcome, f"bench: {nature}", now)
                audit.record(session, operator.actor, "resolve", "alarm", alarm.id, now,
                             outcome=outcome.value)
                self.closed += 1
        self._done(operator, alarm_id)

    # -- a weekly call from the worklist ------------------------------------------------------

    def _weekly_call(self, operator: Operator) -> None:
        now = self.agenda.clock.now()
        try:
            with session_scope(self.sessions) as session:
                begin_writing(session)
                planned = worklist.open_next(session, operator.actor, now)
                planned_id, enrollee_id = planned.id, planned.enrollee_id
        except ValidationFailed:
            return  # no call is due
        self._start(operator)
        call = operator.call = WeeklyCall(planned_id, self.people.answers_operator(enrollee_id))
        seconds = self.rng.uniform(*figures.OPERATOR_CALL_S) if call.answered else \
            figures.OPERATOR_RINGS_S
        self.agenda.after(seconds, self._log_call, operator, call)

    def _log_call(self, operator: Operator, call: WeeklyCall) -> None:
        if call.logged:
            return  # broken off for an alarm and logged then
        call.logged = True
        result = CallResult.WELL if call.answered else CallResult.NO_ANSWER
        with session_scope(self.sessions) as session:
            begin_writing(session)
            worklist.log_outcome(session, call.planned_id, operator.actor, result, "",
                                 self.settings.calls, self.calendar, self.agenda.clock.now())
        self.calls[result.value] += 1
        operator.call = None
        # Broken off for an alarm: no notes now, the alarm first.
        self._done(operator, None, wrap_up_s=0.0 if call.breaking_off else figures.WRAP_UP_S)

    # -- an operator's time --------------------------------------------------------------------

    def _start(self, operator: Operator) -> None:
        operator.busy = True
        operator.started = self.agenda.clock.now()

    def _done(self, operator: Operator, alarm_id: int | None,
              wrap_up_s: float = figures.WRAP_UP_S) -> None:
        self.on_it.discard(alarm_id)
        self.agenda.after(wrap_up_s, self._free, operator)

    def _free(self, operator: Operator) -> None:
        operator.busy_s += (self.agenda.clock.now() - operator.started).total_seconds()
        operator.busy = False
        self.look()
