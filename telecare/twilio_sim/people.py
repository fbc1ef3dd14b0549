"""The simulated people at the other end: scripted, or driven key by key by a test."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class Behaviour(enum.StrEnum):
    ANSWER = "answer"  # a person picks up and presses the scripted keys
    NO_ANSWER = "no_answer"
    RING = "ring"  # rings (for up to the stand-in's press_wait) until the call is hung up
    BUSY = "busy"
    VOICEMAIL = "voicemail"  # an answering machine: AnsweredBy machine_end_beep
    FAIL = "fail"  # the network cannot connect the call
    HANG_UP = "hang_up"  # picks up, hears the first line, hangs up
    INVALID = "invalid"  # not a valid number: the API refuses it with 21211


# What a person does on hearing a line, besides pressing keys: the demo's people press
# their alarm pendant when the weekly call asks them to. Called on the call's own thread.
Listener = Callable[["Person", str], None]


@dataclass
class Person:
    """A scripted callee. `keys`: one entry per prompt, "" for silence; None: a test drives.

    `on_hear`, if given, is told each line the person hears (in order, as it is spoken), so
    a simulation can make them act in the world outside the call.
    """

    number: str
    behaviour: Behaviour = Behaviour.ANSWER
    keys: list[str] | None = None
    sms_status: str = "delivered"  # or "undelivered", "failed"
    heard: list[str] = field(default_factory=list)
    on_hear: Listener | None = field(default=None, repr=False, compare=False)

    @property
    def interactive(self) -> bool:
        return self.behaviour == Behaviour.ANSWER and self.keys is None

    def next_key(self, prompt_index: int) -> str:
        keys = self.keys or []
        return keys[prompt_index] if prompt_index < len(keys) else ""
