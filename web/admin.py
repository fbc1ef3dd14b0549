"""The administrator's page: console users, their roles, and switching them off."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from telecare import audit
from telecare.errors import ValidationFailed
from telecare.models import User
from telecare.users import create_user
from web.access import ADMINS, actor, roles
from web.db import db, now
from web.forms import ButtonForm, UserForm
from web.labels import field_label

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@roles(*ADMINS)
def users():
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = create_user(db(), form.username.data, form.display_name.data or "",
                               form.role.data, form.password.data or "", actor(), now(),
                               language=form.language.data)
        except ValidationFailed as failed:
            db().rollback()
            status = 422
            for error in failed.errors:
                target = getattr(form, error.field, None)
                if target is not None:
                    target.errors = [*target.errors, error]
        else:
            db().commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for(".users"))
    elif form.is_submitted():
        status = 422
    rows = db().scalars(select(User).order_by(User.active.desc(), User.username)).all()
    return render_template("admin/users.html", form=form, users=rows, button=ButtonForm(),
                           field_label=field_label), status


@bp.post("/users/<int:user_id>/<any(disable, enable):action>")
@roles(*ADMINS)
def switch(user_id: int, action: str):
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.id:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for(".users"))
    user.active = action == "enable"
    audit.record(db(), actor(), action, "user", user.id, now())
    db().commit()
    if user.active:
        flash(_("%(name)s can sign in again.", name=user.username), "success")
    else:
        flash(_("%(name)s can no longer sign in.", name=user.username), "success")
    return redirect(url_for(".users"))
