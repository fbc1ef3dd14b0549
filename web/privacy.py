"""Data protection in the console: one person's data as a JSON download, on request.

A POST with the form's CSRF token, not a link: every export is written to the audit log, and
a prefetching browser or a crawler following links must not make one.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort

from telecare.errors import ValidationFailed
from telecare.privacy.export import export as export_document
from telecare.privacy.export import to_json
from web.access import WRITERS, actor, roles
from web.db import db, now, runtime, today

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


@bp.post("/enrollees/<int:enrollee_id>/export")
@roles(*WRITERS)
def export(enrollee_id: int):
    try:
        document = export_document(db(), enrollee_id, actor(), now(), runtime().settings.privacy)
    except ValidationFailed:
        db().rollback()
        abort(404)
    db().commit()
    response = Response(to_json(document), mimetype="application/json")
    name = f"telecare-enrollee-{enrollee_id}-{today().isoformat()}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
