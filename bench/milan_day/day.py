"""One day of the service on the simulated clock.

The clock jumps `step` seconds at a time. At each jump, first everything on the agenda up to
the new moment happens at its own moment (calls answered, keys pressed, buttons, operators),
then each sweep whose turn it is runs, as the service's threads and scheduler run them:

- escalation engine (`Engine.run_once`): every step (the service: every 0.5 s, and at once
  on a new alarm);
- device watchdog: every step (the service: every second);
- heartbeats (`watchdog.flush_seen`): every 60 s, one from every pendant that can reach us
  (the service writes each second what it heard);
- weekly calls (`PlannedCaller.run_once`): every calls.sweep_interval_s (10 s), as the
  scheduler runs it;
- campaign loop (`campaigns.sweep.tick`): every 5 s, its idle pause. A pass sends at most
  100 deliveries (deliver_due's batch): 20 calls a second at most, within what we take the
  city's Twilio account to allow (telephony.calls_per_second is set to 20 to match);
- planning (`plan_ahead`): hourly, as the scheduler runs it;
- operators: at each new alarm (the live queue), whenever one is free, and every 60 s.

A sweep whose cadence is shorter than the step runs once a step (with --step 10, the campaign
loop sends at most 10 calls a second).

After the day, the sweeps go on for OVERTIME so the last alarms are answered; the KPIs count
what opened within the day.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bench.milan_day import figures
from bench.milan_day.service import Service
from telecare.alarms import alarm_opened
from telecare.commands.planned_calls import PLAN_EVERY, plan_ahead

OVERTIME = timedelta(minutes=10)
CAMPAIGN_EVERY_S = 5
# Operators see a new alarm at once (the live queue, alarm_opened) and look again whenever
# they are free; idle, they glance at the queue and the worklist once a minute.
OPERATORS_LOOK_S = 60


@dataclass
class Sweep:
    name: str
    every_s: float
    run: Callable[[], object]
    due: datetime | None = None


@dataclass
class DayRun:
    start: datetime
    end: datetime
    wall_s: float = 0.0
    steps: int = 0
    sweep_s: Counter = field(default_factory=Counter)  # wall time per part


def run_day(service: Service, day: date, start: datetime, end: datetime,
            step_s: float) -> DayRun:
    agenda, clock = service.agenda, service.agenda.clock
    settings = service.runtime.settings
    clock.at = start
    service.pendants.plan(start, end, settings.zone)
    service.warnings.plan(day, start, end)
    sweeps = [
        Sweep("heartbeats", figures.HEARTBEAT_S, service.pendants.heartbeats),
        Sweep("watchdog", step_s, service.pendants.watch),
        Sweep("escalation engine", step_s, service.engine.run_once),
        Sweep("weekly calls", settings.calls.sweep_interval_s, service.caller.run_once),
        Sweep("campaigns", CAMPAIGN_EVERY_S, service.warnings.sweep),
        Sweep("planning", PLAN_EVERY.total_seconds(), lambda: plan_ahead(service.runtime)),
        Sweep("operators", OPERATORS_LOOK_S, service.centre.look),
    ]
    for sweep in sweeps:
        sweep.due = start
    result = DayRun(start, end)
    alarm_opened.connect(service.centre.alarm_opened)
    began = time.perf_counter()
    try:
        moment = start
        while moment < end + OVERTIME:
            moment += timedelta(seconds=step_s)
            before = time.perf_counter()
            agenda.run_until(moment)  # calls, keys, presses, operators: each at its moment
            result.sweep_s["agenda (calls, presses, operators)"] += time.perf_counter() - before
            for sweep in sweeps:
                if sweep.due <= moment:
                    before = time.perf_counter()
                    sweep.run()
                    result.sweep_s[sweep.name] += time.perf_counter() - before
                    sweep.due = moment + timedelta(seconds=sweep.every_s)
            result.steps += 1
    finally:
        alarm_opened.disconnect(service.centre.alarm_opened)
    result.wall_s = time.perf_counter() - began
    return result
