"""The audit log, newest first, filtered by entity or by who acted."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from telecare.models import AuditEntry
from web.access import AUDITORS, roles
from web.db import db
from web.enrollees import parse_page

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

PER_PAGE = 50
ENTITY_TYPES = ["enrollee", "user", "api_token", "escalation_policy"]


@bp.get("")
@roles(*AUDITORS)
def index():
    entity_type = request.args.get("entity_type", "").strip()[:40]
    entity_id = request.args.get("entity_id", "").strip()
    who = request.args.get("actor", "").strip()[:100]
    page = parse_page(request.args.get("page"))
    query = select(AuditEntry)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id.isdigit():
        query = query.where(AuditEntry.entity_id == int(entity_id))
    if who:
        query = query.where(func.lower(AuditEntry.actor).startswith(who.lower(),
                                                                    autoescape=True))
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    entries = db().scalars(query.order_by(AuditEntry.id.desc())
                           .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    pages = max(1, -(-total // PER_PAGE))
    return render_template("audit_log/index.html", entries=entries, page=page, pages=pages,
                           total=total, entity_type=entity_type, entity_id=entity_id,
                           actor=who, entity_types=ENTITY_TYPES)
