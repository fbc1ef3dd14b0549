"""Answer times against the standard: the supervisor's page, and the same figures as JSON."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, render_template, request
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from alerts import kpi
from telecare.models import AlarmKind
from web.access import AUDITORS, roles
from web.db import db, runtime, today
from web.kpi_chart import chart
from web.labels import ALARM_KINDS

bp = Blueprint("kpi", __name__, url_prefix="/kpi")

DEFAULT_DAYS = 30
KIND_LABELS = ALARM_KINDS  # one wording for alarm kinds across the console
CHOICES = {"calls": _l("Alarm calls (button, fall, help asked on a call)"),
           "all": _l("Every kind of alarm"), **KIND_LABELS}
WHO_LABELS = {kpi.CONTACT_VOICE: _l("By a contact (voice)"),
              kpi.CONTACT_SMS: _l("By a contact (SMS)"),
              kpi.ENROLLEE: _l("By the person"),
              kpi.OTHER: _l("Other"),
              kpi.UNACKNOWLEDGED: _l("Not acknowledged yet")}


def parse_kinds(text: str) -> tuple | None:
    """The alarms counted: "calls" (the standard's), "all", or one kind; None if unknown."""
    if text in ("", "calls"):
        return kpi.ALARM_CALLS
    if text == "all":
        return ()
    return (AlarmKind(text),) if text in KIND_LABELS else None


def parse_range(args) -> tuple[date, date, dict]:
    """The range asked for (default the last 30 days) and the fields it got wrong."""
    last = today()
    first = last - timedelta(days=DEFAULT_DAYS - 1)
    errors = {}
    for name in ("from", "until"):
        text = args.get(name, "").strip()
        if not text:
            continue
        try:
            value = date.fromisoformat(text)
        except ValueError:
            errors[name] = _l("Write a date as YYYY-MM-DD.")
            continue
        first, last = (value, last) if name == "from" else (first, value)
    if first > last:
        errors["until"] = _l("The end comes before the start.")
    elif (last - first).days >= kpi.MAX_DAYS:
        errors["until"] = _l("At most %(days)d days at a time.", days=kpi.MAX_DAYS)
    if errors:
        last = today()
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    return first, last, errors


def percent(share: float | None) -> str:
    return "—" if share is None else f"{format_decimal(share * 100, format='0.0')} %"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{format_decimal(value, format='0')} s"


@bp.get("")
@roles(*AUDITORS)
def index():
    first, last, errors = parse_range(request.args)
    choice = request.args.get("kinds", "calls")
    kinds = parse_kinds(choice)
    if kinds is None:
        errors["kinds"], choice, kinds = _l("Choose from the list."), "calls", kpi.ALARM_CALLS
    found = kpi.report(db(), runtime().settings.zone, first, last, kinds)
    return render_template("kpi/index.html", report=found, chart=chart(found.days),
                           errors=errors, choice=choice, choices=CHOICES,
                           who_labels=WHO_LABELS, percent=percent, seconds=seconds,
                           target_60=kpi.TARGET_60, target_180=kpi.TARGET_180,
                           values={"from": first.isoformat(), "until": last.isoformat()})


def figures_json(figures: kpi.Figures) -> dict:
    def rounded(value):
        return None if value is None else round(value, 6)

    return {"count": figures.count, "acknowledged": figures.acknowledged,
            "within_60s": figures.within_60, "within_180s": figures.within_180,
            "share_within_60s": rounded(figures.share_60),
            "share_within_180s": rounded(figures.share_180),
            "meets_60s_target": figures.meets_60, "meets_180s_target": figures.meets_180,
            "median_s": rounded(figures.median_s), "p90_s": rounded(figures.p90_s)}


def report_json(found: kpi.Report) -> dict:
    """The API's shape of the figures: stable, documented, dates as ISO 8601."""
    return {
        "from": found.first_day.isoformat(), "until": found.last_day.isoformat(),
        "time_zone": runtime().settings.timezone,
        "kinds": list(found.kinds) or [k.value for k in AlarmKind],
        "targets": {"share_within_60s": kpi.TARGET_60, "share_within_180s": kpi.TARGET_180},
        "note": "alarms not acknowledged yet count as not within 60 s or 180 s; "
                "median and p90 are of the acknowledged alarms",
        "total": figures_json(found.total),
        "days": [{"day": day.isoformat(), **figures_json(f)} for day, f in found.days],
        "by": [{"key": who.key, "user_id": who.user_id, "name": who.name or None,
                **figures_json(f)} for who, f in found.by_who],
    }


def answer_times_json():
    """GET /api/v1/kpi/answer-times?from=&until=&kinds=: (body, status)."""
    first, last, errors = parse_range(request.args)
    kinds = parse_kinds(request.args.get("kinds", "calls"))
    if errors or kinds is None:
        return {"error": "bad_request",
                "message": "from and until are dates (YYYY-MM-DD), at most "
                           f"{kpi.MAX_DAYS} days apart; kinds is calls, all or an alarm kind"
                }, 400
    return report_json(kpi.report(db(), runtime().settings.zone, first, last, kinds)), 200
