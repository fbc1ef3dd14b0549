"""The weekly calls at demo speed: a visitor hears some ring within the first minutes.

A real week spreads each person's call over their chosen weekday and hour; a demo lasts
minutes. So the demo plans the week as the scheduler would, then brings a few dozen of the
week's next calls forward to ring over the coming minutes, whatever the hour (the caller is
told to ring at night too), retries within minutes instead of hours, and waits less for the
alarm button's signal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from telecare.db import begin_writing, session_scope
from telecare.models import CallKind, CallMode, PlannedCall, PlannedCallState
from telecare.runtime import Runtime
from telecare.settings import Settings

BROUGHT_FORWARD = 30
FIRST_AFTER = timedelta(seconds=15)
SPACING = timedelta(seconds=6)  # 30 calls over three minutes


def demo_speed(settings: Settings) -> Settings:
    """The calls' settings at demo speed: look for due calls often, retry within minutes,
    and call at any hour (the demo's people answer at night too; a real service keeps its
    calling day, so nobody is rung at night)."""
    return settings.replace(calls=replace(
        settings.calls, sweep_interval_s=min(settings.calls.sweep_interval_s, 5),
        retry_minutes=["1", "2"], button_check_s=30, day_start="00:00", day_end="23:59"))


def bring_forward(runtime: Runtime, count: int = BROUGHT_FORWARD) -> int:
    """The week's next automated weekly calls, moved to ring over the coming minutes.

    Each keeps its day (`occasion`, the planner's key), so planning again does not make it
    twice; its slot and next attempt become the new time.
    """
    now = runtime.clock.now()
    with session_scope(runtime.sessions) as session:
        begin_writing(session)
        upcoming = session.scalars(
            select(PlannedCall)
            .where(PlannedCall.state == PlannedCallState.PLANNED,
                   PlannedCall.kind == CallKind.COURTESY,
                   PlannedCall.mode == CallMode.AUTOMATED,
                   PlannedCall.attempts == 0,
                   PlannedCall.next_attempt_at > now + FIRST_AFTER)
            .order_by(PlannedCall.next_attempt_at, PlannedCall.id)
            .limit(count)).all()
        for n, planned in enumerate(upcoming):
            planned.planned_at = planned.next_attempt_at = now + FIRST_AFTER + n * SPACING
            planned.updated_at = now
        return len(upcoming)
