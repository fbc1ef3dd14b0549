"""The day's KPI table, read back from the database the product wrote.

Answer times come from `alerts.kpi`, the figures the supervisor's report shows; the rest
are plain counts of what the day left in the tables.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import kpi
from bench.milan_day import figures
from bench.milan_day.day import DayRun
from bench.milan_day.service import Service
from telecare.courtesy.attempts import ANSWERED
from telecare.models import (
    Alarm,
    AlarmKind,
    ButtonCheck,
    Campaign,
    CampaignDelivery,
    DeviceEvent,
    PlannedCall,
    PlannedCallState,
)

TEN_MINUTES_S = 600
WHO = {kpi.CONTACT_VOICE: "a contact (call)", kpi.CONTACT_SMS: "a contact (SMS)",
       kpi.ENROLLEE: "the person (call-back)", kpi.UNACKNOWLEDGED: "nobody yet",
       kpi.OTHER: "other"}


class Table:
    def __init__(self):
        self.lines: list[str] = []

    def section(self, title: str) -> None:
        self.lines.append(f"\n{title}")

    def row(self, label: str, value, note: str = "") -> None:
        text = f"{value:,}" if isinstance(value, int) else str(value)
        self.lines.append(f"  {label:<46} {text:>16}  {note}".rstrip())

    def __str__(self) -> str:
        return "\n".join(self.lines)


def share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def table(service: Service, day: date, run: DayRun, setup_s: float, database: str,
          enrollees: int) -> tuple[str, bool]:
    """The KPI table, and whether the whole run took under ten minutes."""
    out = Table()
    zone = service.runtime.settings.zone
    hours = (run.end - run.start).total_seconds() / 3600
    out.lines.append(f"Milan's telecare day: {run.start.astimezone(zone):%Y-%m-%d %H:%M} "
                     f"{zone.key}, {hours:g} h; {enrollees:,} enrollees; {database}")
    with service.runtime.sessions() as session:
        _alarms(out, session, run)
        _answer_times(out, session, day, run, zone)
        _weekly_calls(out, session, run)
        _devices(out, session, run, service)
        _warnings(out, session, service, run)
    _centre(out, service, run)
    total_s = setup_s + run.wall_s
    simulated_s = (run.end - run.start).total_seconds()
    out.section("Run")
    out.row("setup: seed, pendants, plan the week", f"{setup_s:.1f} s")
    out.row("the day (steps of simulated time)", f"{run.wall_s:.1f} s",
            f"{run.steps:,} steps, {service.agenda.done:,} agenda entries")
    for part, spent in run.sweep_s.most_common():
        out.row(f"  of which {part}", f"{spent:.1f} s")
    out.row("wall time, all told", f"{total_s:.1f} s")
    out.row("simulated / real time (the day alone)", f"{simulated_s / run.wall_s:,.0f} x")
    under = total_s < TEN_MINUTES_S
    out.row("under 10 minutes", "yes" if under else "no")
    if service.network.errors:
        out.row("webhook errors (see the log)", len(service.network.errors))
    return str(out), under


def _opened(run: DayRun):
    return (Alarm.opened_at >= run.start, Alarm.opened_at < run.end)


def _alarms(out: Table, session: Session, run: DayRun) -> None:
    counts = dict(session.execute(select(Alarm.kind, func.count()).where(*_opened(run))
                                  .group_by(Alarm.kind)).all())
    out.section("Alarms opened in the day, by kind")
    for kind in AlarmKind:
        if counts.get(kind):
            out.row(kind.value, counts[kind])
    out.row("all", sum(counts.values()))


def _answer_times(out: Table, session: Session, day: date, run: DayRun,
                  zone: ZoneInfo) -> None:
    figures_all, _ = kpi.window(session, run.start, run.end)
    out.section("Time to acknowledge: button, fall, help requested (EN 50134-7 / TSA)")
    out.row("alarms", figures_all.count)
    out.row("acknowledged within 60 s", share(figures_all.within_60, figures_all.count),
            _target(figures_all.meets_60, kpi.TARGET_60))
    out.row("acknowledged within 180 s", share(figures_all.within_180, figures_all.count),
            _target(figures_all.meets_180, kpi.TARGET_180))
    out.row("median / 90th percentile",
            f"{seconds(figures_all.median_s)} / {seconds(figures_all.p90_s)}")
    for kind in kpi.ALARM_CALLS:
        found, _ = kpi.window(session, run.start, run.end, kinds=(kind,))
        if found.count:
            out.row(f"  {kind.value}: within 60 s / 180 s",
                    f"{share(found.within_60, found.count)} / "
                    f"{share(found.within_180, found.count)}",
                    f"median {seconds(found.median_s)}, p90 {seconds(found.p90_s)}")
    # Who took charge, as the supervisor's report groups it (its local day).
    who: Counter = Counter()
    for person, found in kpi.report(session, zone, day, day).by_who:
        who["an operator" if person.user_id else WHO.get(person.key, person.key)] += found.count
    for label, count in who.most_common():
        out.row(f"  taken charge by {label}", count)


def _target(met: bool | None, target: float) -> str:
    return "" if met is None else f"target {target:.1%}: {'met' if met else 'MISSED'}"


def _weekly_calls(out: Table, session: Session, run: DayRun) -> None:
    in_day = (PlannedCall.planned_at >= run.start, PlannedCall.planned_at < run.end)
    rows = session.execute(select(PlannedCall.kind, PlannedCall.mode, PlannedCall.state,
                                  PlannedCall.result, PlannedCall.attempts,
                                  PlannedCall.button_check).where(*in_day)).all()
    out.section("Planned calls due in the day")
    for kind in sorted({r.kind for r in rows}):
        calls = [r for r in rows if r.kind == kind]
        by_operator = sum(r.mode == "operator" for r in calls)
        answered = sum(r.state == PlannedCallState.DONE and r.result in ANSWERED for r in calls)
        out.row(f"{kind.value} calls due", len(calls),
                f"{len(calls) - by_operator:,} automated, {by_operator:,} by operators")
        out.row("  confirmed (1 or 9 pressed, or an operator's)", answered,
                share(answered, len(calls)))
        out.row("  retried (more than one attempt)", sum(r.attempts > 1 for r in calls))
        out.row("  missed (every attempt unanswered: alarm)",
                sum(r.state == PlannedCallState.MISSED for r in calls))
        out.row("  still to try (next attempt tomorrow)",
                sum(r.state in (PlannedCallState.PLANNED, PlannedCallState.CALLING)
                    for r in calls))
        checks = Counter(r.button_check for r in calls if r.button_check)
        if checks:
            out.row("  pendant pressed when asked / flagged to check",
                    f"{checks[ButtonCheck.VERIFIED]:,} / {checks[ButtonCheck.FLAGGED]:,}")
    kinds = dict(session.execute(select(Alarm.kind, func.count()).where(*_opened(run))
                                 .group_by(Alarm.kind)).all())
    out.row("alarms from missed calls", kinds.get(AlarmKind.MISSED_COURTESY_CALLS, 0))
    out.row("alarms from unanswered heat checks", kinds.get(AlarmKind.HEAT_CHECK_UNANSWERED, 0))
    out.row("help requested on a call (pressed 9)", kinds.get(AlarmKind.HELP_REQUESTED, 0))


def _devices(out: Table, session: Session, run: DayRun, service: Service) -> None:
    events = dict(session.execute(
        select(DeviceEvent.type, func.count())
        .where(DeviceEvent.received_at >= run.start, DeviceEvent.received_at < run.end)
        .group_by(DeviceEvent.type)).all())
    pendants = service.pendants
    out.section("Pendants")
    out.row("events: alarm / fall / test / battery",
            " / ".join(f"{events.get(t, 0):,}" for t in ("alarm", "fall", "test", "battery")))
    out.row("presses that were real emergencies", pendants.genuine)
    out.row("fell silent / went offline (watchdog)",
            f"{pendants.silenced:,} / {events.get('offline', 0):,}")
    out.row("back online the same day", events.get("online", 0))


def _warnings(out: Table, session: Session, service: Service, run: DayRun) -> None:
    rows = session.execute(
        select(Campaign.kind, Campaign.title, CampaignDelivery.state, func.count())
        .join(CampaignDelivery, CampaignDelivery.campaign_id == Campaign.id)
        # Not tomorrow's heat campaigns, made by the sweep just after midnight.
        .where(Campaign.created_at >= run.start, Campaign.created_at < run.end)
        .group_by(Campaign.kind, Campaign.title, CampaignDelivery.state)
        .order_by(Campaign.kind, Campaign.title)).all()
    out.section("Warning deliveries, by state")
    campaigns: dict[str, Counter] = {}
    for _kind, title, state, count in rows:
        campaigns.setdefault(title, Counter())[state.value] += count
    for title, states in campaigns.items():
        total = sum(states.values())
        detail = ", ".join(f"{state} {count:,}" for state, count in states.most_common())
        out.row(title[:46], total, detail)
    out.section("Phone network")
    for purpose, count in service.network.calls.most_common():
        out.row(f"calls placed: {purpose}", count)
    out.row("texts sent", service.network.texts)


def _centre(out: Table, service: Service, run: DayRun) -> None:
    centre = service.centre
    zone = service.runtime.settings.zone
    on_shift_s = 0.0
    moment = run.start.astimezone(UTC)  # hour by hour in UTC: a clock change is no matter
    while moment < run.end:
        hour = moment.astimezone(zone).hour
        on_shift_s += 3600 * max(1, round(figures.OPERATORS_BY_HOUR[hour] * centre.scale))
        moment += timedelta(hours=1)
    busy_s = sum(op.busy_s for op in centre.operators)
    out.section("Operators")
    out.row("on shift (by night / by day)",
            f"{max(1, round(min(figures.OPERATORS_BY_HOUR) * centre.scale))} / "
            f"{len(centre.operators)}")
    out.row("alarms taken charge of", sum(centre.taken.values()))
    out.row("alarms resolved", centre.closed)
    out.row("weekly calls made (answered / not)",
            f"{centre.calls['well']:,} / {centre.calls['no_answer']:,}")
    out.row("time busy", share(round(busy_s), round(on_shift_s)))
