"""The demo's city on the phone: who answers the service's calls, and what they do.

Every number is given a part by a stable hash of the number, so a person behaves the same
way in every call and in every run of the demo: most answer and press 1, some let it ring,
some press 9 for help, a few have an answering machine. Those who answer the weekly call
press their pendant when it asks them to (most of them: a few forget, and the call flags
their button for an operator to check).
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from telecare.telephony.twiml import wording
from telecare.twilio_sim import Behaviour, Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    who: str  # for the banner: "most answer and press 1", ...
    share: float
    behaviour: Behaviour
    keys: tuple[str, ...] | None = None


# The shares add up to 1. Keys are one per prompt: "1" answers the weekly call ("I am
# well"), takes charge of a relative's alarm, or says "all right" on an alarm's call-back.
PARTS = (
    Part("answer and press 1", 0.72, Behaviour.ANSWER, ("1",)),
    Part("do not answer", 0.10, Behaviour.NO_ANSWER),
    Part("have voicemail", 0.05, Behaviour.VOICEMAIL),
    Part("press 9 for help", 0.04, Behaviour.ANSWER, ("9",)),
    Part("are busy", 0.03, Behaviour.BUSY),
    Part("pick up and say nothing", 0.03, Behaviour.ANSWER, ("",)),
    Part("hang up", 0.03, Behaviour.HANG_UP),
)
# Of the people who answer, the share who press their pendant when the weekly call asks.
PRESS_WHEN_ASKED = 0.9
# Seconds a person takes to find the pendant and press it, once asked.
PRESS_DELAY_S = (1.5, 4.0)


def draw(number: str, purpose: str) -> float:
    """A number's own fraction in [0, 1) for one purpose: the same in every run."""
    digest = hashlib.sha256(f"{purpose}:{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def part_of(number: str) -> Part:
    point, running = draw(number, "part"), 0.0
    for part in PARTS:
        running += part.share
        if point < running:
            return part
    return PARTS[0]


# Presses the pendant of whoever has this phone number in `after_s` seconds; False if the
# number has no simulated pendant.
PressPendant = Callable[[str, float], bool]


class City:
    """The stand-in's cast (TwilioSim(cast=city.person)): a Person for each number rung."""

    def __init__(self, languages: Iterable[str], press_pendant: PressPendant | None = None):
        # What the weekly call says when it asks for the button, in every language it speaks.
        self.button_requests = {wording(language, "button_request") for language in languages}
        self.press_pendant = press_pendant
        self.random = random.Random()

    def person(self, number: str) -> Person:
        part = part_of(number)
        keys = list(part.keys) if part.keys is not None else None
        # A NO_ANSWER or BUSY person never hears anything: only people who pick up listen.
        listens = part.behaviour == Behaviour.ANSWER and draw(number, "press") < PRESS_WHEN_ASKED
        return Person(number, part.behaviour, keys, on_hear=self.hear if listens else None)

    def hear(self, person: Person, line: str) -> None:
        """What a listening person does on hearing a line: asked for the button, press it."""
        if self.press_pendant is None or not any(ask in line for ask in self.button_requests):
            return
        if not self.press_pendant(person.number, self.random.uniform(*PRESS_DELAY_S)):
            log.info("demo: %s was asked to press a pendant they do not have", person.number)

    @staticmethod
    def summary() -> str:
        return ", ".join(f"{round(part.share * 100)}% {part.who}" for part in PARTS)
