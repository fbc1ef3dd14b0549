"""The first page after sign-in: what this role does here."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from telecare.models import Alarm, AlarmState, AuditEntry, Enrollee, EnrolleeState, Role, User
from web.access import ALL_ROLES, roles
from web.db import db

bp = Blueprint("home", __name__)


@bp.get("/")
@roles(*ALL_ROLES)
def index():
    counts = dict(db().execute(
        select(Enrollee.state, func.count()).group_by(Enrollee.state)).all())
    context = {"counts": {state.value: counts.get(state, 0) for state in EnrolleeState}}
    if current_user.role in (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN):
        # The centre's first question: is anyone waiting?
        waiting = dict(db().execute(select(Alarm.state, func.count())
                                    .where(Alarm.state != AlarmState.RESOLVED)
                                    .group_by(Alarm.state)).all())
        context["alarms"] = {"open": waiting.get(AlarmState.OPEN, 0),
                             "acknowledged": waiting.get(AlarmState.ACKNOWLEDGED, 0)}
    if current_user.role in (Role.SOCIAL_WORKER, Role.ADMIN):
        context["recent"] = db().scalars(
            select(Enrollee).order_by(Enrollee.updated_at.desc(), Enrollee.id.desc()).limit(8)
        ).all()
    if current_user.role in (Role.SUPERVISOR, Role.ADMIN):
        context["activity"] = db().scalars(
            select(AuditEntry).where(AuditEntry.action != "view")
            .order_by(AuditEntry.id.desc()).limit(8)).all()
    if current_user.role == Role.ADMIN:
        context["users"] = db().scalar(select(func.count()).select_from(User)
                                       .where(User.active.is_(True)))
    return render_template("home/index.html", **context)
