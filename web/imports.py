"""Bulk import: upload a CSV, read the per-row report, download its errors as CSV."""

from __future__ import annotations

import io
import os
import secrets

from flask import Blueprint, abort, flash, render_template, request, send_file, session
from flask_babel import gettext as _

from telecare.enrolment import importer
from telecare.enrolment.importer import ImportReport, import_enrollees, report_csv
from web.access import WRITERS, actor, roles
from web.db import db, now, runtime

bp = Blueprint("imports", __name__, url_prefix="/import")

_SESSION_KEY = "import_reports"
KEPT_REPORTS = 5


@bp.route("", methods=["GET", "POST"])
@roles(*WRITERS)
def upload():
    if request.method == "GET":
        return _page(report=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV file to import."), "error")
        return _page(report=None), 400
    db().close()  # the importer opens its own sessions, one per batch
    # utf-8-sig: spreadsheets saved as "CSV UTF-8" start with a byte-order mark.
    stream = io.TextIOWrapper(upload.stream, encoding="utf-8-sig", newline="")
    report = import_enrollees(runtime().sessions, stream, actor(), now(),
                              runtime().settings.enrolment, file_name=upload.filename,
                              zone=runtime().settings.zone, calls=runtime().settings.calls)
    token = _keep(report) if report.errors else None
    return _page(report=report, file_name=upload.filename, token=token), \
        422 if report.refused else 200


def _page(**context):
    required = importer.REQUIRED_COLUMNS
    optional = [c for c in importer.COLUMNS if c not in required]
    return render_template("imports/upload.html", required_columns=required,
                           optional_columns=optional, **context)


@bp.get("/reports/<token>.csv")
@roles(*WRITERS)
def report(token: str):
    """An error report of this session's imports; nobody else's, and no guessing names."""
    if token not in session.get(_SESSION_KEY, []):
        abort(404)
    path = _folder() / f"{token}.csv"
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name="import-errors.csv", max_age=0)


def _folder():
    return runtime().settings.data_dir / "import-reports"


def _keep(report: ImportReport) -> str:
    """Write the error report where only this session can fetch it (it may name people)."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(18)
    fd = os.open(folder / f"{token}.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(report_csv(report))
    kept = [*session.get(_SESSION_KEY, []), token]
    for old in kept[:-KEPT_REPORTS]:
        (folder / f"{old}.csv").unlink(missing_ok=True)
    session[_SESSION_KEY] = kept[-KEPT_REPORTS:]
    return token
