"""Signing in and out, and the interface language."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from telecare import audit
from telecare.actor import Actor
from telecare.users import authenticate
from web.access import ALL_ROLES, ConsoleUser, public, roles
from web.db import db, now
from web.forms import LoginForm
from web.throttle import LoginThrottle

bp = Blueprint("auth", __name__)


def _throttle() -> LoginThrottle:
    app = current_app
    if "telecare.login_throttle" not in app.extensions:
        app.extensions["telecare.login_throttle"] = LoginThrottle(
            app.config["LOGIN_ATTEMPTS"], timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"]))
    return app.extensions["telecare.login_throttle"]


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    language = request.args.get("lang")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username, address = form.username.data.strip().lower(), request.remote_addr or "-"
        throttle = _throttle()
        if throttle.blocked(username, address, now()):
            flash(_("Too many failed attempts. Wait a few minutes and try again."), "error")
            return render_template("auth/login.html", form=form), 429
        user = authenticate(db(), username, form.password.data, now())
        if user is None:
            throttle.failed(username, address, now())
            # The same words whether the name exists or not.
            audit.record(db(), Actor(f"web:{address}"), "login_failed", "user", None, now(),
                         username=username[:80])
            db().commit()
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        throttle.succeeded(username, address)
        audit.record(db(), Actor(user.username, user.id), "login", "user", user.id, now())
        db().commit()
        language = session.get("language")
        session.clear()  # nothing from before sign-in survives it
        if language:
            session["language"] = language
        session.permanent = True
        login_user(ConsoleUser(user))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("home.index")


@bp.post("/logout")
@roles(*ALL_ROLES)
def logout():
    audit.record(db(), current_user.actor, "logout", "user", current_user.id, now())
    db().commit()
    language = session.get("language")
    logout_user()
    session.clear()
    if language:
        session["language"] = language
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
@roles(*ALL_ROLES)
def language():
    chosen = request.form.get("language", "")
    if chosen in current_app.config["LANGUAGES"]:
        session["language"] = chosen
        current_user.row.language = chosen
        db().commit()
    return redirect(_safe_next(request.form.get("next")))
