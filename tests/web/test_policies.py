"""The administrator's escalation policies: save, refuse naming the field, back to the file."""

from __future__ import annotations

from sqlalchemy import select

from alerts.policy import load_book, policy_for
from telecare.models import AuditEntry, EscalationPolicy, Role


def form(**changes) -> dict:
    data = {"time_box_minutes": "12", "ack_timeout_minutes": "25", "quiet_hours": "yes",
            "rows": "4",
            "action_0": "queue", "timeout_0": "20", "order_0": "1",
            "action_1": "contacts", "timeout_1": "60", "order_1": "3",
            "action_2": "callback", "timeout_2": "45", "order_2": "2",  # moved up
            "action_3": "emergency", "timeout_3": "", "order_3": "4"}
    data.update(changes)
    return data


def test_it_lists_every_kind_from_the_file(client, login):
    login(Role.ADMIN)
    client.post("/language", data={"language": "en", "next": "/admin/policies"})
    page = client.get("/admin/policies").get_data(as_text=True)
    assert "Button pressed" in page and "Mains power lost" in page
    assert "keeps the ladder it was given" in page


def test_it_saves_a_valid_policy_in_its_new_order(client, login, session, settings, users):
    login(Role.ADMIN)
    response = client.post("/admin/policies/fall", data=form())
    assert response.status_code == 302, response.get_data(as_text=True)
    row = session.get(EscalationPolicy, "fall")
    session.refresh(row)
    assert row.updated_by_id == users[Role.ADMIN].id
    policy = policy_for(session, load_book(settings), "fall")
    assert [(s.action, s.timeout_s) for s in policy.steps] == [
        ("queue", 20), ("callback", 45), ("contacts", 60), ("emergency", None)]
    assert (policy.time_box_minutes, policy.ack_timeout_minutes, policy.quiet_hours) == (
        12, 25, True)
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "escalation_policy")).one()
    assert (entry.action, entry.detail["kind"]) == ("update", "fall")
    page = client.get("/admin/policies").get_data(as_text=True)
    assert "Modificata da Admin Test" in page


def test_it_drops_a_removed_row_and_adds_a_spare_one(client, login, session, settings):
    login(Role.ADMIN)
    data = form(action_1="", rows="5", action_4="supervisor", timeout_4="30", order_4="3")
    assert client.post("/admin/policies/button", data=data).status_code == 302
    policy = policy_for(session, load_book(settings), "button")
    assert [s.action for s in policy.steps] == ["queue", "callback", "supervisor", "emergency"]


def test_it_refuses_an_invalid_policy_naming_the_field(client, login, session):
    login(Role.ADMIN)
    response = client.post("/admin/policies/button", data=form(
        time_box_minutes="0", timeout_2="", order_2="2"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="time_box_minutes-error"' in page
    # The call-back is step 2 once reordered, and only the last step may wait forever.
    assert 'id="steps[2]-error"' in page and "Passo 2" in page
    assert session.get(EscalationPolicy, "button") is None


def test_it_speaks_italian_about_what_is_wrong(client, login):
    login(Role.ADMIN)
    page = client.post("/admin/policies/button", data=form(timeout_0="1")).get_data(
        as_text=True)
    assert 'id="steps[1]-error"' in page and "secondi" in page


def test_it_goes_back_to_the_files_default(client, login, session, settings):
    login(Role.ADMIN)
    client.post("/admin/policies/fall", data=form())
    assert session.get(EscalationPolicy, "fall") is not None
    assert client.post("/admin/policies/fall/reset").status_code == 302
    session.expire_all()
    assert session.get(EscalationPolicy, "fall") is None
    book = load_book(settings)
    assert policy_for(session, book, "fall") == book.policies["fall"]
    assert session.scalar(select(AuditEntry.detail).where(
        AuditEntry.entity_type == "escalation_policy").order_by(AuditEntry.id.desc())
        .limit(1)) == {"kind": "fall", "policy": "default"}


def test_only_administrators_edit_policies(client, login):
    for role in (Role.SUPERVISOR, Role.OPERATOR):
        with client.application.test_client() as browser:
            login(role, browser)
            assert browser.get("/admin/policies").status_code == 403
            assert browser.post("/admin/policies/fall", data=form()).status_code == 403
            assert browser.post("/admin/policies/fall/reset").status_code == 403


def test_an_unknown_kind_is_not_found(client, login):
    login(Role.ADMIN)
    assert client.get("/admin/policies/coffee").status_code == 404
