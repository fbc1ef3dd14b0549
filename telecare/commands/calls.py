"""`telecare calls plan` and `telecare calls today`: the week's planned calls against capacity."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import click
from sqlalchemy import select

from telecare.courtesy import planner
from telecare.courtesy.calendar import CallCalendar
from telecare.db import session_scope
from telecare.models import CallKind, CallMode, Enrollee, PlannedCall, PlannedCallState

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OVER = "*"
# Hours over capacity listed one by one after the table; the rest are counted.
LISTED_OVERLOADS = 10


@click.group("calls")
def calls_group() -> None:
    """Planned calls: the weekly courtesy call, reassurance after an alarm, birthdays."""


@calls_group.command("plan")
@click.option("--from", "first", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First day to plan, YYYY-MM-DD (default: today, local time).")
@click.option("--days", type=click.IntRange(min=1, max=366), default=None,
              help="How many days to plan (default: [calls] plan_days).")
@click.option("--dry-run", is_flag=True,
              help="Only show the load of the calls already planned: assign no slot, "
                   "create and cancel nothing.")
@click.pass_obj
def plan(runtime, first: datetime | None, days: int | None, dry_run: bool) -> None:
    """Plan the coming days' calls and show them per day and hour against capacity.

    Gives a weekday and an hour to new enrollees (the least loaded hour for their mode),
    creates the courtesy, birthday and reassurance calls of the days (never twice, however
    often it runs), cancels the calls of enrollees no longer active, then prints the planned
    calls per local hour as automated/operator, marking with * the hours over capacity.
    """
    settings = runtime.settings
    calendar = CallCalendar.from_settings(settings)
    now = runtime.clock.now()
    start = first.date() if first else calendar.local(now).date()
    days = days or settings.calls.plan_days
    with session_scope(runtime.sessions) as session:
        if dry_run:
            load = planner.load(session, settings, calendar, start, days)
            waiting = planner.unslotted(session)
        else:
            cancelled = planner.cancel_for_ended(session, now)
            assigned = planner.assign_slots(session, settings, calendar, now)
            report = planner.plan_calls(session, settings, calendar, start, days, now)
            load = report.load
    if dry_run:
        click.echo(f"dry run: nothing changed; {waiting:,} active enrollees without a slot "
                   "yet (a real run gives them one)")
    else:
        click.echo(f"assigned a slot to {assigned:,} new enrollees; cancelled {cancelled:,} "
                   "calls of enrollees no longer active")
        click.echo("created " + ", ".join(f"{report.created[kind]:,} {kind.value}"
                                          for kind in CallKind))
    click.echo(load_table(load, settings.timezone))
    click.echo(summary(load))


@calls_group.command("today")
@click.option("--state", type=click.Choice([s.value for s in PlannedCallState]), default=None,
              help="Only the calls in this state.")
@click.pass_obj
def today(runtime, state: str | None) -> None:
    """Today's planned calls in local time order: time, person, mode, kind, state, attempts
    and result."""
    calendar = CallCalendar.from_settings(runtime.settings)
    day = calendar.local(runtime.clock.now()).date()
    with session_scope(runtime.sessions) as session:
        rows = todays_calls(session, calendar, day, state)
    if not rows:
        click.echo(f"no planned calls on {day.isoformat()}"
                   + (f" in state {state}" if state else ""))
        return
    header = ("time", "enrollee", "mode", "kind", "state", "attempts", "result")
    lines = [(calendar.local(call.planned_at).strftime("%H:%M"), name, call.mode.value,
              call.kind.value, call.state.value, str(call.attempts),
              call.result.value if call.result else "-") for call, name in rows]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    for line in [header, *lines]:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        click.echo("  ".join(cells).rstrip())
    click.echo(f"{len(rows)} calls on {day.isoformat()} ({runtime.settings.timezone})")


def todays_calls(session, calendar: CallCalendar, day: date,
                 state: str | None) -> list[tuple[PlannedCall, str]]:
    """The calls ringing on local `day`, with the person's name, by time."""
    query = (select(PlannedCall, Enrollee.first_name, Enrollee.last_name)
             .join(Enrollee, Enrollee.id == PlannedCall.enrollee_id)
             .where(PlannedCall.planned_at >= calendar.at(day, time(0)),
                    PlannedCall.planned_at < calendar.at(day + timedelta(days=1), time(0)))
             .order_by(PlannedCall.planned_at, Enrollee.last_name, PlannedCall.id))
    if state:
        query = query.where(PlannedCall.state == PlannedCallState(state))
    return [(call, f"{first} {last}") for call, first, last in session.execute(query)]


def load_table(load: planner.Load, zone: str) -> str:
    """One row per day, one column per local hour: automated/operator, * over capacity."""
    hours = load.shown_hours()
    capacity = load.capacity
    title = (f"calls per hour ({zone}), automated/operator; capacity "
             f"{capacity[CallMode.AUTOMATED]}/{capacity[CallMode.OPERATOR]}; "
             f"{OVER} over capacity")
    cells = {(day, hour): _cell(load, day, hour) for day in load.dates for hour in hours}
    width = max([len(text) for text in cells.values()] + [5]) + 1
    lines = [title, " " * 14 + "".join(f"{hour:02d}:00".rjust(width) for hour in hours)]
    for day in load.dates:
        label = f"{WEEKDAYS[day.weekday()]} {day.isoformat()}"
        lines.append(label.ljust(14) + "".join(cells[(day, hour)].rjust(width)
                                               for hour in hours))
    return "\n".join(lines)


def _cell(load: planner.Load, day: date, hour: int) -> str:
    automated = load.count(day, hour, CallMode.AUTOMATED)
    operator = load.count(day, hour, CallMode.OPERATOR)
    if not automated and not operator:
        return "-"
    over = (automated > load.capacity[CallMode.AUTOMATED]
            or operator > load.capacity[CallMode.OPERATOR])
    return f"{automated}/{operator}" + (OVER if over else "")


def summary(load: planner.Load) -> str:
    overloads = load.over_capacity()
    lines = [f"over capacity: {WEEKDAYS[o.day.weekday()]} {o.day.isoformat()} {o.hour:02d}:00 "
             f"{o.mode.value} {o.count} > {o.capacity}" for o in overloads[:LISTED_OVERLOADS]]
    if len(overloads) > LISTED_OVERLOADS:
        lines.append(f"... and {len(overloads) - LISTED_OVERLOADS} more hours over capacity")
    last = load.dates[-1]
    lines.append(
        f"{load.total():,} calls planned {load.first.isoformat()} to {last.isoformat()} "
        f"(automated {load.total(CallMode.AUTOMATED):,}, operator "
        f"{load.total(CallMode.OPERATOR):,}); "
        + (f"{len(overloads)} hours over capacity" if overloads else "within capacity"))
    return "\n".join(lines)
