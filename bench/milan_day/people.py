"""Who picks up the phone today, and what they press: drawn call by call from the figures."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.messages import PURPOSE as ESCALATION
from bench.milan_day import figures
from telecare.courtesy import call_flow
from telecare.models import EnrolleePhone

VOICEMAIL_AFTER_S = 20.0  # an answering machine picks up after a few rings
BUSY_AFTER_S = 2.0


@dataclass
class Conduct:
    """What one callee does on one call."""

    pickup: str  # human, machine, no-answer, busy
    ring_s: float
    keys: list[str] = field(default_factory=list)  # one per <Gather>; then silence
    tests_button: bool = False  # presses the pendant when the weekly call asks

    def next_key(self) -> str:
        return self.keys.pop(0) if self.keys else ""


class People:
    def __init__(self, rng: random.Random, enrollee_of: dict[str, int], away: set[int]):
        self.rng = rng
        self.enrollee_of = enrollee_of  # a number -> whose phone it is
        self.away = away  # people out all day
        # Each person's latest alarm: a real emergency? (the call-back finds them, or not)
        self.genuine: dict[int, bool] = {}

    @classmethod
    def of(cls, session: Session, rng: random.Random) -> People:
        enrollee_of = {}
        for number, enrollee_id in session.execute(
                select(EnrolleePhone.number, EnrolleePhone.enrollee_id)
                .order_by(EnrolleePhone.enrollee_id, EnrolleePhone.position)):
            enrollee_of.setdefault(number, enrollee_id)
        everyone = sorted(set(enrollee_of.values()))
        away = set(rng.sample(everyone, round(len(everyone) * figures.AWAY_SHARE)))
        return cls(rng, enrollee_of, away)

    def conduct(self, to: str, purpose: str, script: str) -> Conduct:
        """How the person at `to` takes a call made for `purpose` with `script`."""
        enrollee = self.enrollee_of.get(to)
        if purpose == ESCALATION and script == "alarm":
            behaviour = self._draw(figures.CONTACT)  # a contact, the doctor
        elif enrollee in self.away:
            behaviour = "no_answer"
        elif script == "alarm_callback":
            behaviour = self._draw(figures.CALLBACK_GENUINE if self.genuine.get(enrollee)
                                   else figures.CALLBACK_FALSE)
        else:
            behaviour = self._draw(figures.ATTEMPT)
            if behaviour == "help" and purpose != call_flow.PURPOSE:
                behaviour = "well"  # a warning call has no 9 to press: they listen, and 1
        weekly = purpose == call_flow.PURPOSE
        return self._as_conduct(behaviour, tests_button=weekly and self.rng.random()
                                < figures.BUTTON_TESTED_SHARE)

    def answers_operator(self, enrollee_id: int) -> bool:
        """An operator's weekly call: answered, or not."""
        return enrollee_id not in self.away and self.rng.random() < \
            figures.OPERATOR_CALL_ANSWERED

    def think_s(self) -> float:
        return self.rng.uniform(*figures.THINK_S)

    def button_test_s(self) -> float:
        return self.rng.uniform(*figures.BUTTON_TEST_S)

    def _as_conduct(self, behaviour: str, tests_button: bool) -> Conduct:
        ring = self.rng.uniform(*figures.RING_S)
        if behaviour == "no_answer":
            return Conduct("no-answer", ring)
        if behaviour == "busy":
            return Conduct("busy", BUSY_AFTER_S)
        if behaviour == "voicemail":
            return Conduct("machine", VOICEMAIL_AFTER_S)
        keys = {"well": ["1"], "help": ["9"], "silent": []}[behaviour]
        return Conduct("human", ring, keys, tests_button and behaviour == "well")

    def _draw(self, shares: dict[str, float]) -> str:
        pick, total = self.rng.random() * sum(shares.values()), 0.0
        for behaviour, share in shares.items():
            total += share
            if pick < total:
                return behaviour
        return behaviour
