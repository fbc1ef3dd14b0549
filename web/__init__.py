"""The Flask application: social-services pages, the console's sign-in, the JSON API."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from telecare.runtime import Runtime
from web import access, i18n
from web.secret import secret_key


def create_app(runtime: Runtime, test_config: dict | None = None) -> Flask:
    """The application factory: one app per runtime; tests pass their own settings."""
    settings = runtime.settings
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=secret_key(settings),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.web.session_minutes),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_NAME="telecare_session",
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,  # a CSV of 100,000 enrollees fits
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        LANGUAGES=list(settings.web.languages),
        BABEL_DEFAULT_LOCALE=settings.web.languages[0],
        BABEL_TRANSLATION_DIRECTORIES="translations",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        LOGIN_ATTEMPTS=5,
        LOGIN_LOCKOUT_MINUTES=15,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["telecare.runtime"] = runtime

    @app.teardown_appcontext
    def close_db(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    i18n.init_app(app)
    access.init_app(app)
    # Twilio's webhooks arrive here: a contact's key press or "OK <code>" must reach the
    # escalation engine's handlers inside the same transaction.
    from alerts import responses

    responses.connect()

    from web import (
        admin,
        alarms,
        api,
        audit_log,
        auth,
        calls,
        campaigns,
        contacts,
        devices,
        enrollee_devices,
        enrollees,
        health,
        home,
        imports,
        kpi,
        metrics,
        policies,
        privacy,
        twilio,
    )

    for module in (auth, home, health, enrollees, contacts, enrollee_devices, imports, admin,
                   audit_log, api, twilio):
        app.register_blueprint(module.bp)
    app.register_blueprint(devices.bp)
    app.register_blueprint(campaigns.bp)
    for module in (kpi, metrics, policies):
        app.register_blueprint(module.bp)
    app.register_blueprint(alarms.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(privacy.bp)
    access.csrf.exempt(api.bp)  # bearer tokens only, never the session cookie
    access.csrf.exempt(twilio.bp)  # Twilio's signature instead of a session and a CSRF token
    if settings.web.trusted_proxies:
        # Behind nginx or Caddy: take the client's address and scheme from the proxy's
        # X-Forwarded-* headers, so the sign-in throttle sees people, not the proxy.
        n = settings.web.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app
