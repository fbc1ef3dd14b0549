"""Escalation policies: read from config/escalation.toml, edited by an administrator in the DB.

A policy document is the same shape in both places:
{"time_box_minutes": 10, "ack_timeout_minutes": 30, "quiet_hours": false,
 "steps": [{"action": "queue", "timeout_s": 30}, ..., {"action": "emergency"}]}
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import AlarmKind, EscalationPolicy
from telecare.settings import Settings, config_dir

ACTIONS = ("queue", "callback", "contacts", "doctor", "supervisor", "emergency")
# Actions that phone or text someone, and so wait out quiet hours on gentle ladders.
PHONING = frozenset({"callback", "contacts", "doctor"})


@dataclass(frozen=True)
class Step:
    action: str
    timeout_s: int | None  # None: the last step, it waits for an operator


@dataclass(frozen=True)
class Policy:
    kind: str
    steps: tuple[Step, ...]
    time_box_minutes: int
    ack_timeout_minutes: int
    quiet_hours: bool

    def document(self) -> dict:
        return {"time_box_minutes": self.time_box_minutes,
                "ack_timeout_minutes": self.ack_timeout_minutes,
                "quiet_hours": self.quiet_hours,
                "steps": [{"action": s.action} | ({"timeout_s": s.timeout_s}
                                                  if s.timeout_s is not None else {})
                          for s in self.steps]}


@dataclass(frozen=True)
class EmergencyService:
    key: str
    name: str
    number: str


@dataclass(frozen=True)
class PolicyBook:
    """Every kind's default policy and the emergency services, as the file says."""

    policies: dict[str, Policy]
    services: dict[str, EmergencyService]
    by_kind: dict[str, str]

    def service_for(self, kind: str) -> EmergencyService:
        return self.services.get(self.by_kind.get(kind, "general")) or next(
            iter(self.services.values()))


def parse_policy(kind: str, document: object) -> Policy:
    """A policy from its document, or ValidationFailed naming each wrong field."""
    errors: list[FieldError] = []
    if not isinstance(document, dict):
        raise ValidationFailed([FieldError(kind, N_("expected a table of settings"))])

    def whole(name: str, low: int, high: int) -> int:
        value = document.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors.append(FieldError(name, N_("expected a whole number from %(low)s to %(high)s"),
                                     {"low": low, "high": high}))
            return low
        return value

    box = whole("time_box_minutes", 1, 10_080)
    ack = whole("ack_timeout_minutes", 1, 10_080)
    quiet = document.get("quiet_hours", False)
    if not isinstance(quiet, bool):
        errors.append(FieldError("quiet_hours", N_("expected true or false")))
    raw_steps = document.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        errors.append(FieldError("steps", N_("expected at least one step")))
        raw_steps = []
    for index, raw in enumerate(raw_steps, start=1):
        field = f"steps[{index}]"
        if not isinstance(raw, dict) or raw.get("action") not in ACTIONS:
            errors.append(FieldError(field, N_("action must be one of %(choices)s"),
                                     {"choices": ", ".join(ACTIONS)}))
            continue
        timeout = raw.get("timeout_s")
        last = index == len(raw_steps)
        if timeout is None and not last:
            errors.append(FieldError(field, N_("every step but the last needs a timeout_s")))
        elif timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)
                                      or not 5 <= timeout <= 86_400):
            errors.append(FieldError(field, N_("timeout_s must be from 5 to 86400 seconds")))
            continue
        steps.append(Step(raw["action"], timeout))
    if errors:
        raise ValidationFailed(errors)
    return Policy(kind, tuple(steps), box, ack, quiet)


def policies_path(settings: Settings) -> Path:
    return Path(settings.alerts.policies_file) if settings.alerts.policies_file \
        else config_dir() / "escalation.toml"


def load_book(settings: Settings) -> PolicyBook:
    path = policies_path(settings)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the escalation policies: {exc}") from exc
    policies = {}
    documents = dict(raw.get("policies", {}))
    # [policies.default], if present, serves every kind without a table of its own.
    fallback = documents.pop("default", None)
    if fallback is not None:
        for kind in AlarmKind:
            documents.setdefault(kind.value, fallback)
    for kind, document in documents.items():
        if kind not in AlarmKind.__members__.values():
            raise ValueError(f"{path}: [policies.{kind}]: not an alarm kind "
                             f"({', '.join(k.value for k in AlarmKind)})")
        try:
            policies[kind] = parse_policy(kind, document)
        except ValidationFailed as exc:
            raise ValueError(f"{path}: [policies.{kind}]: {exc}") from exc
    missing = [k.value for k in AlarmKind if k.value not in policies]
    if missing:
        raise ValueError(f"{path}: no policy for {', '.join(missing)} "
                         "(and no [policies.default])")
    emergency = raw.get("emergency", {})
    services = {key: EmergencyService(key, str(value.get("name", key)), str(value["number"]))
                for key, value in emergency.get("services", {}).items()}
    if not services:
        raise ValueError(f"{path}: [emergency.services] names no service")
    return PolicyBook(policies, services, dict(emergency.get("by_kind", {})))


def policy_for(session: Session, book: PolicyBook, kind: str) -> Policy:
    """The administrator's edit of this kind's policy if there is one, else the file's."""
    row = session.get(EscalationPolicy, kind)
    if row is not None:
        try:
            return parse_policy(kind, row.document)
        except ValidationFailed:
            pass  # stored before a rule tightened: the file's policy still protects people
    return book.policies[kind]
