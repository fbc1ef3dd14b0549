"""The JSON API, /api/v1: bearer tokens only, the same roles as the pages, errors in JSON."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from telecare import audit
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.enrolment.search import MAX_PER_PAGE, search_enrollees
from telecare.errors import ValidationFailed
from telecare.models import Enrollee
from web.access import AUDITORS, READERS, WRITERS, actor, api_error, roles
from web.db import db, now, runtime, writing
from web.enrollees import get_enrollee, municipality_name, parse_state
from web.kpi import answer_times_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return api_error(error.code or 500, error.description or "")


def _clock(value) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def enrollee_json(enrollee: Enrollee) -> dict:
    """The API's shape of a record: stable, documented, dates as ISO 8601."""
    return {
        "id": enrollee.id,
        "first_name": enrollee.first_name,
        "last_name": enrollee.last_name,
        "sex": enrollee.sex.value,
        "birth_date": enrollee.birth_date.isoformat(),
        "codice_fiscale": enrollee.codice_fiscale,
        "language": enrollee.language,
        "address": {
            "street": enrollee.address_street,
            "postal_code": enrollee.address_postal_code,
            "floor": enrollee.address_floor,
            "municipality_istat": enrollee.municipality_istat,
            "municipality": municipality_name(enrollee.municipality_istat),
            "latitude": enrollee.latitude,
            "longitude": enrollee.longitude,
        },
        "lives_alone": enrollee.lives_alone,
        "weekly_call": {
            "weekday": enrollee.call_weekday,
            "window_start": _clock(enrollee.call_window_start),
            "window_end": _clock(enrollee.call_window_end),
            "mode": enrollee.call_mode.value,
        },
        "health_notes": enrollee.health_notes,
        "access_notes": enrollee.access_notes,
        "consent_date": enrollee.consent_date.isoformat() if enrollee.consent_date else None,
        "consent_note": enrollee.consent_note,
        "age_exception_reason": enrollee.age_exception_reason,
        "state": enrollee.state.value,
        "state_reason": enrollee.state_reason,
        "enrolled_at": enrollee.enrolled_at.isoformat(),
        "updated_at": enrollee.updated_at.isoformat(),
        "phones": [{"number": p.number, "kind": p.kind.value} for p in enrollee.phones],
        "contacts": [
            {"position": c.position + 1, "name": c.name, "relation": c.relation.value,
             "phone": c.phone, "can_sms": c.can_sms, "language": c.language,
             "holds_key": c.holds_key, "notes": c.notes}
            for c in enrollee.contacts
        ],
    }


def _int_arg(name: str, default: int) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    return int(text) if text.isdigit() else None


@bp.get("/enrollees")
@roles(*READERS)
def list_enrollees():
    page, per_page = _int_arg("page", 1), _int_arg("per_page", 50)
    if page is None or page < 1 or per_page is None or not 1 <= per_page <= MAX_PER_PAGE:
        return api_error(400, f"page must be 1 or more; per_page between 1 and {MAX_PER_PAGE}")
    state_text = request.args.get("state", "")
    state = parse_state(state_text)
    if state_text and state is None:
        return api_error(400, "state must be one of active, suspended, ended")
    found = search_enrollees(db(), request.args.get("q", "")[:100], state,
                             request.args.get("municipality", "")[:100], page, per_page,
                             with_details=True)
    if found.items:
        # The items carry health notes: who read which records is kept, one entry a page.
        audit.record(writing(), actor(), "list", "enrollee", None, now(),
                     ids=[e.id for e in found.items])
        db().commit()
    return jsonify({
        "items": [enrollee_json(e) for e in found.items],
        "page": found.page, "per_page": found.per_page, "total": found.total,
        "pages": found.pages,
    })


@bp.get("/enrollees/<int:enrollee_id>")
@roles(*READERS)
def get(enrollee_id: int):
    enrollee = get_enrollee(enrollee_id)
    service.viewed(writing(), enrollee, actor(), now())
    db().commit()
    return jsonify(enrollee_json(enrollee))


@bp.post("/enrollees")
@roles(*WRITERS)
def create():
    raw = request.get_json(silent=True) if request.is_json else None
    if not isinstance(raw, dict):
        return api_error(400, "send a JSON object with Content-Type: application/json")
    settings = runtime().settings
    try:
        data = read_enrollee(raw, now().astimezone(settings.zone).date(), settings.enrolment,
                             settings.calls)
        enrollee = service.enrol(db(), data, actor(), now())
    except ValidationFailed as failed:
        db().rollback()
        response = jsonify(errors=[e.as_dict() for e in failed.errors])
        response.status_code = 422
        return response
    except (TypeError, AttributeError):
        # A list where an object belongs (phones: "x"): the shape, not a value, is wrong.
        db().rollback()
        return api_error(400, "phones and contacts must be lists of objects")
    db().commit()
    response = jsonify(enrollee_json(enrollee))
    response.status_code = 201
    response.headers["Location"] = url_for(".get", enrollee_id=enrollee.id, _external=True)
    return response


@bp.get("/kpi/answer-times")
@roles(*AUDITORS)
def answer_times():
    body, status = answer_times_json()
    return jsonify(body), status
