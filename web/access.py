"""Deny by default: every endpoint declares its roles or says it is public, or nobody gets in."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from telecare.actor import Actor
from telecare.models import Role, User
from telecare.users import user_for_token
from web.db import db, now

ALL_ROLES = frozenset(Role)
# Operators and supervisors read the card (they need it during an alarm); social services write.
READERS = ALL_ROLES
WRITERS = frozenset({Role.SOCIAL_WORKER, Role.ADMIN})
AUDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

csrf = CSRFProtect()
login_manager = LoginManager()


def roles(*allowed: Role) -> Callable:
    """Let in signed-in users with one of these roles; the set is readable as `view.roles`."""
    if not allowed:
        raise ValueError("roles() needs at least one role; use @public for open pages")

    def mark(view: Callable) -> Callable:
        view.roles = frozenset(allowed)
        return view

    return mark


def public(view: Callable) -> Callable:
    view.public = True
    return view


class ConsoleUser(UserMixin):
    """The signed-in person as Flask-Login sees them; the row itself is `user.row`."""

    def __init__(self, row: User):
        self.row = row
        self.id = row.id
        self.role = row.role
        self.username = row.username
        self.display_name = row.display_name

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.id)


def api_actor() -> Actor:
    return Actor(f"api:{g.api_user.username}", g.api_user.id)


def actor() -> Actor:
    if request.blueprint == "api":
        return api_actor()
    return current_user.actor


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    # Flask's session cookie is signed, not server-side: Flask-Login's "strong" protection
    # would sign out people whose mobile network changes address, so "basic".
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    app.before_request(_check_access)
    app.after_request(_protective_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, _error_page)


def _load_user(user_id: str) -> ConsoleUser | None:
    try:
        row = db().get(User, int(user_id))
    except ValueError:
        return None
    if row is None or not row.active:
        return None
    return ConsoleUser(row)


def _check_access():
    if request.endpoint is None:
        return None  # no such page: 404 or 405 follows
    view = current_app.view_functions[request.endpoint]
    if request.endpoint == "static" or getattr(view, "public", False):
        return None
    allowed = getattr(view, "roles", None)
    if not allowed:
        # An endpoint that forgot to say who may use it is closed, loudly.
        current_app.logger.error("endpoint %s declares neither @roles nor @public",
                                 request.endpoint)
        return _refuse(403)
    if request.blueprint == "api":
        return _check_api(allowed)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in allowed:
        return _refuse(403)
    return None


def _check_api(allowed: frozenset[Role]):
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and secret.strip():
        user = user_for_token(db(), secret.strip(), now())
        if user is not None:
            db().commit()  # the token's last use
    if user is None:
        response = jsonify(error="unauthorized", message="a valid bearer token is required")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="telecare"'
        return response
    g.api_user = user
    if user.role not in allowed:
        return _refuse(403)
    return None


def is_api() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def _refuse(code: int):
    if is_api():
        return api_error(code)
    return _error_page(code)


API_ERRORS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 422: "unprocessable"}


def api_error(code: int, message: str = ""):
    response = jsonify(error=API_ERRORS.get(code, "error"), message=message)
    response.status_code = code
    return response


def _protective_headers(response):
    headers = response.headers
    # Everything the console needs is on this site; no page may be framed (clickjacking).
    headers.setdefault("Content-Security-Policy",
                       "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages carry health data: no copy in the browser's or a proxy's cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(error):
    code = error if isinstance(error, int) else getattr(error, "code", 500)
    if is_api():
        return api_error(code)
    return render_template("error.html", code=code), code


def _csrf_error(error: CSRFError):
    return render_template("error.html", code=400, csrf=True), 400
