"""The administrator's users page and the audit log page."""

from __future__ import annotations

from sqlalchemy import select

from telecare.models import AuditEntry, Role, User
from tests.web.conftest import PASSWORD
from tests.web.test_enrollees import enrol


def test_it_creates_a_user_with_a_role(client, login, session):
    login(Role.ADMIN)
    response = client.post("/admin/users", data={
        "username": "g.conti", "display_name": "Giulia Conti", "role": "social_worker",
        "language": "it", "password": "a-long-enough-password"})
    assert response.status_code == 302
    user = session.scalars(select(User).where(User.username == "g.conti")).one()
    assert (user.role, user.display_name, user.active) == (Role.SOCIAL_WORKER, "Giulia Conti",
                                                           True)
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.entity_id, entry.actor) == ("create", user.id, "admin")


def test_it_shows_why_a_user_cannot_be_created(client, login, session):
    login(Role.ADMIN)
    response = client.post("/admin/users", data={
        "username": "operator", "display_name": "", "role": "operator", "language": "it",
        "password": "short"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "operator è già in uso" in page
    assert "deve avere almeno 12 caratteri" in page


def test_it_disables_and_enables_a_user(client, login, users, session):
    login(Role.ADMIN)
    operator = users[Role.OPERATOR]
    client.post(f"/admin/users/{operator.id}/disable")
    session.refresh(operator)
    assert operator.active is False
    with client.application.test_client() as other:
        refused = other.post("/login", data={"username": "operator", "password": PASSWORD})
        assert refused.status_code == 401
    client.post(f"/admin/users/{operator.id}/enable")
    session.refresh(operator)
    assert operator.active is True
    # An administrator cannot lock themselves out.
    client.post(f"/admin/users/{users[Role.ADMIN].id}/disable")
    session.refresh(users[Role.ADMIN])
    assert users[Role.ADMIN].active is True


def test_it_filters_the_audit_log_by_entity_and_actor(client, login, session, settings):
    first, second = enrol(session, settings), enrol(session, settings)
    login(Role.OPERATOR)
    client.get(f"/enrollees/{first.id}")
    client.get(f"/enrollees/{second.id}")
    with client.application.test_client() as supervisor:
        login(Role.SUPERVISOR, supervisor)
        page = supervisor.get(f"/audit?entity_type=enrollee&entity_id={first.id}&actor=oper")
        text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"/enrollees/{first.id}" in text and f"/enrollees/{second.id}\"" not in text
    assert "1 voce" in text
