"""`/healthz`: can the service reach its database and broker, and are its parts beating.

200 when the database answers, the broker (if this process knows of one) accepts a TCP
connection, and every part that has ever beaten (bridge, scheduler.escalation, ...) beat
within service.stale_after_s; otherwise 503, with each reason in `reasons`. A part that has
never run against this database is not listed and fails nothing: a web-only installation
without devices is healthy. The body is documented in docs/it-guide.md.
"""

from __future__ import annotations

import socket
from datetime import timedelta

from flask import Blueprint, current_app, g, jsonify
from sqlalchemy import text

from devices.connection import BrokerAddress
from telecare import beats
from web.access import public
from web.db import db, now, runtime

bp = Blueprint("health", __name__)

CONNECT_TIMEOUT_S = 1.0


@bp.get("/healthz")
@public
def healthz():
    settings = runtime().settings
    at = now()
    stale_after = settings.service.stale_after_s
    reasons: list[str] = []
    body: dict = {"status": "ok"}

    reachable = _database_reachable()
    body["database"] = "reachable" if reachable else "unreachable"
    if not reachable:
        reasons.append("database: unreachable")

    broker = _broker_state(settings)
    body["broker"] = broker
    if broker == "unreachable":
        host, port = _broker_address(settings)
        reasons.append(f"broker: no TCP connection to {host}:{port}")

    if reachable:
        components = {}
        try:
            readings = beats.latest(db(), at, timedelta(seconds=stale_after))
        except Exception:
            current_app.logger.exception("healthz: the service's beats could not be read")
            readings = {}
            reasons.append("beats: could not be read")
        for name, reading in sorted(readings.items()):
            age = reading.age_s(at)
            fresh = age <= stale_after
            components[name] = {
                "state": "fresh" if fresh else "stale",
                "last_beat_at": reading.last_beat_at.isoformat(),
                "age_s": round(age, 1),
                "instance": reading.instance,
                "instances": reading.instances,
                "stopped": bool(reading.detail.get("stopped")),
            }
            if not fresh:
                reasons.append(f"{name}: last beat {age:.0f} s ago "
                               f"(stale after {stale_after} s)")
        body["components"] = components
    if reasons:
        body["status"] = "unavailable"
        body["reasons"] = reasons
    body["stale_after_s"] = stale_after
    body["time"] = at.isoformat()
    return jsonify(body), 503 if reasons else 200


def _database_reachable() -> bool:
    # Through the request's session, so it checks the very connection pages would use.
    try:
        db().execute(text("SELECT 1"))
        return True
    except Exception:
        current_app.logger.exception("healthz: the database is unreachable")
        session = g.pop("db", None)
        if session is not None:
            session.close()
        return False


def _broker_address(settings) -> tuple[str, int] | None:
    """The broker this service uses: the configured one, or the embedded one if running."""
    if settings.mqtt.url != "embedded":
        address = BrokerAddress.from_url(settings.mqtt.url)
        return address.host, address.port
    port_file = settings.data_dir / "mosquitto" / "port"
    try:
        return "127.0.0.1", int(port_file.read_text().strip())
    except (OSError, ValueError):
        return None  # no embedded broker was ever started with this data folder


def _broker_state(settings) -> str:
    address = _broker_address(settings)
    if address is None:
        return "not running here"
    try:
        socket.create_connection(address, timeout=CONNECT_TIMEOUT_S).close()
        return "reachable"
    except OSError:
        return "unreachable"
