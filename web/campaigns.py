"""Warnings: record a scam report with a preview of who will hear it, follow delivery, heat."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from campaigns import districts as city_districts
from campaigns.delivery import cancel, delivery_report
from campaigns.geography import shipped_neighbours
from campaigns.heat import HeatCoverage
from campaigns.scams import read_scam_report, recipients, send_scam_warning
from telecare import audit
from telecare.enrolment.municipalities import lookup
from telecare.errors import ValidationFailed
from telecare.models import (
    Campaign,
    CampaignDelivery,
    CampaignState,
    Enrollee,
    HeatForecast,
    Role,
)
from telecare.settings import config_dir
from web.access import actor, roles
from web.db import db, now, runtime, today
from web.enrollees import parse_page

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

# Operators and supervisors record scam reports (they take the calls that reveal them).
SENDERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
VIEWERS = (Role.OPERATOR, Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.ADMIN)
PER_PAGE = 100
PREVIEW_NAMES = 50
SCAM_KINDS = {
    "fake_carabiniere": _l("Fake carabiniere or police officer"),
    "fake_utility_worker": _l("Fake gas, power or water worker"),
    "fake_relative": _l("Fake relative in trouble"),
    "phone_fraud": _l("Phone fraud"),
    "other": _l("Other"),
}
KINDS = {"scam": _l("Scam warning"), "heat_warning": _l("Heat warning"),
         "heat_check": _l("Heat-wave check call"), "cap": _l("Civil protection alert")}
STATES = {"queued": _l("Sending"), "cancelled": _l("Cancelled"), "done": _l("Done")}
DELIVERY_STATES = {"queued": _l("Waiting"), "sending": _l("Sending"), "sent": _l("Sent"),
                   "delivered": _l("Heard"), "failed": _l("Failed"),
                   "cancelled": _l("Cancelled")}
HEAT_LEVELS = {0: _l("green"), 1: _l("yellow"), 2: _l("orange"), 3: _l("red")}


@bp.app_template_filter("campaign_title")
def campaign_title(campaign) -> str:
    """The title in the reader's language: stored titles begin with a kind's code."""
    place = campaign.title.split(": ", 1)[-1]
    if campaign.scam_kind is not None:
        return f"{SCAM_KINDS.get(campaign.scam_kind.value, campaign.scam_kind.value)}: {place}"
    return f"{KINDS.get(campaign.kind.value, campaign.kind.value)}: {place}"


def _districts():
    return city_districts.load(runtime().settings.campaigns, shipped_neighbours())



@bp.get("")
@roles(*VIEWERS)
def index():
    page = parse_page(request.args.get("page"))
    total = db().scalar(select(func.count()).select_from(Campaign))
    campaigns = db().scalars(select(Campaign).order_by(Campaign.id.desc())
                             .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    reports = {c.id: delivery_report(db(), c) for c in campaigns}
    return render_template("campaigns/index.html", campaigns=campaigns, reports=reports,
                           page=page, pages=max(1, -(-total // PER_PAGE)), kinds=KINDS,
                           states=STATES, can_send=actor_can_send())


def actor_can_send() -> bool:
    return current_user.role in SENDERS


@bp.route("/scam/new", methods=["GET", "POST"])
@roles(*SENDERS)
def new_scam():
    districts = _districts()
    languages = runtime().settings.enrolment.languages
    values = request.form.to_dict() if request.method == "POST" else {
        "valid_from": today().isoformat(),
        "valid_until": (today() + timedelta(days=14)).isoformat(), "channel": "voice",
        "with_neighbours": "1"}
    context = {"values": values, "errors": {}, "scam_kinds": SCAM_KINDS,
               "languages": [lang for lang in languages if lang in ("it", "en")] or ["it"],
               "districts": districts.municipi.numbers if districts else [],
               "district_options": [("", "—")] + [
                   (str(n), _("District %(n)d", n=n))
                   for n in (districts.municipi.numbers if districts else [])]}
    if request.method == "GET":
        return render_template("campaigns/scam_form.html", **context)
    raw = dict(values, with_neighbours=bool(values.get("with_neighbours")),
               urgent=bool(values.get("urgent")))
    try:
        report = read_scam_report(raw, today(), context["languages"], districts)
    except ValidationFailed as exc:
        for error in exc.errors:
            context["errors"].setdefault(error.field, []).append(error)
        return render_template("campaigns/scam_form.html", **context), 422
    if request.form.get("action") != "send":
        return render_template("campaigns/scam_preview.html", **context,
                               **_preview(report, districts))
    campaign, queued = send_scam_warning(db(), report, shipped_neighbours(), districts,
                                         actor(), now())
    db().commit()
    flash(_("Warning recorded: %(n)d people will hear it.", n=queued), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


def _preview(report: dict, districts) -> dict:
    chosen = recipients(report, shipped_neighbours(), districts).subquery()
    by_place = db().execute(
        select(Enrollee.municipality_istat, Enrollee.district, func.count())
        .where(Enrollee.id.in_(select(chosen.c.id)))
        .group_by(Enrollee.municipality_istat, Enrollee.district)
        .order_by(Enrollee.municipality_istat, Enrollee.district)).all()
    rows = [(lookup(code).name if lookup(code) else code, district, count)
            for code, district, count in by_place]
    names = db().execute(
        select(Enrollee.id, Enrollee.last_name, Enrollee.first_name, Enrollee.municipality_istat)
        .where(Enrollee.id.in_(select(chosen.c.id)))
        .order_by(Enrollee.municipality_istat, Enrollee.last_name, Enrollee.id)
        .limit(PREVIEW_NAMES)).all()
    return {"by_place": rows, "total": sum(r[2] for r in rows), "names": names,
            "report": report}


@bp.get("/<int:campaign_id>")
@roles(*VIEWERS)
def show(campaign_id: int):
    campaign = db().get(Campaign, campaign_id) or abort(404)
    page = parse_page(request.args.get("page"))
    counts = delivery_report(db(), campaign)
    rows = db().execute(
        select(CampaignDelivery, Enrollee.last_name, Enrollee.first_name,
               Enrollee.municipality_istat)
        .join(Enrollee, Enrollee.id == CampaignDelivery.enrollee_id)
        .where(CampaignDelivery.campaign_id == campaign.id)
        .order_by(CampaignDelivery.state, Enrollee.last_name, CampaignDelivery.id)
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    total = sum(counts.values())
    return render_template("campaigns/show.html", campaign=campaign, counts=counts,
                           total=total, rows=rows, page=page,
                           pages=max(1, -(-total // PER_PAGE)), kinds=KINDS, states=STATES,
                           delivery_states=DELIVERY_STATES, scam_kinds=SCAM_KINDS,
                           can_send=actor_can_send())


@bp.post("/<int:campaign_id>/cancel")
@roles(*SENDERS)
def stop(campaign_id: int):
    campaign = db().get(Campaign, campaign_id) or abort(404)
    if campaign.state != CampaignState.QUEUED:
        flash(_("This warning is no longer being sent."), "error")
    else:
        stopped = cancel(db(), campaign, now())
        audit.record(db(), actor(), "cancel", "campaign", campaign.id, now(), stopped=stopped)
        db().commit()
        flash(_("Cancelled: %(n)d people will not be called.", n=stopped), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.get("/heat")
@roles(*VIEWERS)
def heat():
    coverage = HeatCoverage.from_toml(config_dir() / "heat.toml")
    first = today()
    days = [first + timedelta(days=n) for n in range(3)]
    found = db().execute(select(HeatForecast.city, HeatForecast.day, HeatForecast.level)
                         .where(HeatForecast.day.in_(days))).all()
    levels = {(city, day): level for city, day, level in found}
    cities = [(city, [levels.get((city, day)) for day in days]) for city in coverage.cities]
    cities.sort(key=lambda c: (-max((lv for lv in c[1] if lv is not None), default=-1), c[0]))
    return render_template("campaigns/heat.html", cities=cities, days=days,
                           heat_levels=HEAT_LEVELS)

