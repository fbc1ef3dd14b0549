"""The administrator's escalation policies: each kind's ladder, edited over the file's default.

An edit is stored in escalation_policy and wins over config/escalation.toml; "back to the
file's default" deletes it. The engine copies a ladder onto an alarm when it opens, so an
edit only reaches alarms opened after it.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from alerts.policy import ACTIONS, load_book, parse_policy, policy_for
from telecare import audit
from telecare.errors import ValidationFailed
from telecare.models import AlarmKind, EscalationPolicy, User
from web.access import ADMINS, actor, roles
from web.db import db, now, runtime
from web.forms import ButtonForm
from web.kpi import KIND_LABELS

bp = Blueprint("policies", __name__, url_prefix="/admin/policies")

KIND_RULE = f"<any({', '.join(k.value for k in AlarmKind)}):kind>"
SPARE_ROWS = 2  # empty rows under the ladder: room to add steps without a script
ACTION_LABELS = {
    "queue": _l("Operator queue"), "callback": _l("Automatic call to the person"),
    "contacts": _l("Contacts, in their order"), "doctor": _l("Doctor"),
    "supervisor": _l("Supervisor"), "emergency": _l("Emergency services (the operator calls)"),
}
FIELD_LABELS = {"time_box_minutes": _l("Time box (minutes)"),
                "ack_timeout_minutes": _l("Acknowledgement timeout (minutes)"),
                "quiet_hours": _l("Respect quiet hours"), "steps": _l("Steps")}


def _book():
    return load_book(runtime().settings)


@bp.get("")
@roles(*ADMINS)
def index():
    book = _book()
    edits = {row.kind: row for row in db().scalars(select(EscalationPolicy))}
    editors = {u.id: u.display_name for u in db().scalars(select(User).where(
        User.id.in_([r.updated_by_id for r in edits.values() if r.updated_by_id])))}
    rows = [(kind.value, policy_for(db(), book, kind.value), edits.get(kind.value))
            for kind in AlarmKind]
    return render_template("policies/index.html", rows=rows, editors=editors,
                           kind_labels=KIND_LABELS, action_labels=ACTION_LABELS)


def _whole(text: str):
    """A whole number, or the text itself so the policy's rules name what is wrong."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def read_form(form) -> tuple[dict, list[dict]]:
    """The posted policy document, and its step rows in their new order (blank rows dropped)."""
    rows = []
    for index in range(int(form.get("rows", "0") or 0) if form.get("rows", "").isdigit()
                       else 0):
        action = form.get(f"action_{index}", "")
        if not action:
            continue  # "remove" picked, or a spare row left empty
        order = form.get(f"order_{index}", "").strip()
        rows.append({"action": action, "timeout": form.get(f"timeout_{index}", "").strip(),
                     "order": int(order) if order.isdigit() else 10_000 + index})
    rows.sort(key=lambda r: r["order"])
    steps = [{"action": r["action"]} | ({"timeout_s": _whole(r["timeout"])}
                                        if r["timeout"] else {}) for r in rows]
    document = {"time_box_minutes": _whole(form.get("time_box_minutes", "")),
                "ack_timeout_minutes": _whole(form.get("ack_timeout_minutes", "")),
                "quiet_hours": form.get("quiet_hours") == "yes", "steps": steps}
    return document, rows


def _rows_of(policy) -> list[dict]:
    return [{"action": s.action, "timeout": "" if s.timeout_s is None else str(s.timeout_s)}
            for s in policy.steps]


@bp.route(f"/{KIND_RULE}", methods=["GET", "POST"])
@roles(*ADMINS)
def edit(kind: str):
    book = _book()
    current = policy_for(db(), book, kind)
    edited = db().get(EscalationPolicy, kind)
    errors: dict[str, list] = {}
    if request.method == "POST":
        document, rows = read_form(request.form)
        try:
            policy = parse_policy(kind, document)
        except ValidationFailed as failed:
            for error in failed.errors:
                errors.setdefault(error.field, []).append(error)
            values = {k: request.form.get(k, "") for k in ("time_box_minutes",
                                                           "ack_timeout_minutes")}
            values["quiet_hours"] = document["quiet_hours"]
            return _form(kind, values, rows, errors, edited, book), 422
        if edited is None:
            edited = EscalationPolicy(kind=kind)
            db().add(edited)
        edited.document = policy.document()
        edited.updated_at, edited.updated_by_id = now(), current_user.id
        audit.record(db(), actor(), "update", "escalation_policy", None, now(), kind=kind,
                     policy=policy.document())
        db().commit()
        flash(_("Policy saved. Alarms opened from now on follow it."), "success")
        return redirect(url_for(".index"))
    values = {"time_box_minutes": current.time_box_minutes,
              "ack_timeout_minutes": current.ack_timeout_minutes,
              "quiet_hours": current.quiet_hours}
    return _form(kind, values, _rows_of(current), errors, edited, book)


def _form(kind, values, rows, errors, edited, book):
    padded = rows + [{"action": "", "timeout": ""}] * SPARE_ROWS
    return render_template("policies/edit.html", kind=kind, values=values, rows=padded,
                           errors=errors, edited=edited, actions=ACTIONS,
                           action_labels=ACTION_LABELS, kind_labels=KIND_LABELS,
                           field_labels=FIELD_LABELS, default=book.policies[kind],
                           button=ButtonForm())


@bp.post(f"/{KIND_RULE}/reset")
@roles(*ADMINS)
def reset(kind: str):
    edited = db().get(EscalationPolicy, kind)
    if edited is not None:
        db().delete(edited)
        audit.record(db(), actor(), "update", "escalation_policy", None, now(), kind=kind,
                     policy="default")
        db().commit()
    flash(_("The policy is the file's default again."), "success")
    return redirect(url_for(".index"))
