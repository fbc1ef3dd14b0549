"""Twilio's webhooks (`/twilio/...`): authenticated by X-Twilio-Signature, not by a login.

Every request is checked against the URL Twilio was given (TELECARE_PUBLIC_URL + path), so a
reverse proxy that rewrites the host cannot make a forged request look signed.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from telecare.models import SmsMessage
from telecare.telephony.calls import (
    apply_call_status,
    attempt_for_callback,
    gather_twiml,
    voice_twiml,
)
from telecare.telephony.sms import apply_sms_status, receive_sms
from web.access import public
from web.db import db, now, runtime

bp = Blueprint("twilio", __name__, url_prefix="/twilio")


def signed_url() -> str:
    """The URL Twilio signed: our public base URL and the path and query it requested."""
    path = request.full_path.rstrip("?")
    return runtime().settings.public_url.rstrip("/") + path


def signed(view):
    """403 unless the request carries a valid X-Twilio-Signature for our auth token."""

    @wraps(view)
    def check(*args, **kwargs):
        signature = request.headers.get("X-Twilio-Signature", "")
        token = runtime().settings.twilio.auth_token
        if not signature or not token or not RequestValidator(token).validate(
                signed_url(), request.form, signature):
            current_app.logger.warning("twilio: refused %s: bad or missing signature",
                                       request.path)
            abort(403)
        return view(*args, **kwargs)

    return check


def required(*names: str) -> dict:
    """The form fields a callback cannot do without; 400 naming the missing ones."""
    missing = [name for name in names if not request.form.get(name)]
    if missing:
        abort(Response(f"missing field(s): {', '.join(missing)}\n", 400,
                       mimetype="text/plain"))
    return request.form


# The values Twilio sends; anything else is not Twilio (or a Twilio we do not know yet).
CALL_STATUSES = frozenset({"queued", "initiated", "ringing", "in-progress", "completed", "busy",
                           "failed", "no-answer", "canceled"})
MESSAGE_STATUSES = frozenset({"accepted", "scheduled", "queued", "sending", "sent", "delivered",
                              "undelivered", "failed", "read", "canceled", "receiving",
                              "received", "partially_delivered"})


def one_of(name: str, allowed: frozenset[str]) -> str:
    value = request.form.get(name, "")
    if value not in allowed:
        abort(Response(f"{name}: unknown value {value[:40]!r}\n", 400, mimetype="text/plain"))
    return value


def short(name: str, limit: int) -> str:
    """A field stored in a column of `limit` characters: longer is not Twilio's, so 400."""
    value = request.form.get(name, "")
    if len(value) > limit:
        abort(Response(f"{name}: longer than {limit} characters\n", 400, mimetype="text/plain"))
    return value


def _attempt(attempt_id: int):
    form = required("CallSid")
    short("CallSid", 40)
    short("AnsweredBy", 30)
    attempt = attempt_for_callback(db(), attempt_id, form["CallSid"])
    if attempt is None:
        current_app.logger.warning("twilio: callback for unknown call %s (CallSid %s)",
                                   attempt_id, form["CallSid"])
        abort(404)
    return attempt


def _twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


@bp.post("/calls/<int:attempt_id>/voice")
@public
@signed
def voice(attempt_id: int):
    attempt = _attempt(attempt_id)
    body = voice_twiml(db(), runtime().settings, attempt, request.form, now())
    db().commit()
    return _twiml(body)


@bp.post("/calls/<int:attempt_id>/gather")
@public
@signed
def gather(attempt_id: int):
    attempt = _attempt(attempt_id)
    digits = request.form.get("Digits", "")
    body = gather_twiml(db(), runtime().settings, attempt, digits, now())
    db().commit()
    return _twiml(body)


@bp.post("/calls/<int:attempt_id>/status")
@public
@signed
def call_status(attempt_id: int):
    attempt = _attempt(attempt_id)
    required("CallStatus")
    one_of("CallStatus", CALL_STATUSES)
    short("SequenceNumber", 10)
    apply_call_status(db(), runtime().settings, attempt, request.form, now())
    db().commit()
    return "", 204


@bp.post("/sms/<int:sms_id>/status")
@public
@signed
def sms_status(sms_id: int):
    form = required("MessageSid", "MessageStatus")
    short("MessageSid", 40)
    one_of("MessageStatus", MESSAGE_STATUSES)
    sms = db().get(SmsMessage, sms_id)
    if sms is None or (sms.message_sid and sms.message_sid != form["MessageSid"]):
        current_app.logger.warning("twilio: status for unknown SMS %s (MessageSid %s)",
                                   sms_id, form["MessageSid"])
        abort(404)
    apply_sms_status(db(), sms, form, now())
    db().commit()
    return "", 204


@bp.post("/sms/inbound")
@public
@signed
def sms_inbound():
    form = required("MessageSid", "From")
    short("MessageSid", 40)
    short("From", 20)
    reply = receive_sms(db(), form, now())
    db().commit()
    current_app.logger.info("twilio: inbound SMS %s read as %s", form["MessageSid"], reply.kind)
    return _twiml(str(MessagingResponse()))
