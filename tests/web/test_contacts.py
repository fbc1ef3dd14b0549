"""The contact ladder on the card: add, edit, remove, and the order of calling."""

from __future__ import annotations

from sqlalchemy import select

from telecare.models import AuditEntry, Contact, Role
from tests.web.test_enrollees import enrol


def ladder(session, enrollee_id: int) -> list[tuple[str, bool]]:
    session.expire_all()
    rows = session.scalars(select(Contact).where(Contact.enrollee_id == enrollee_id)
                           .order_by(Contact.position))
    return [(c.name, c.holds_key) for c in rows]


def last_action(session) -> str:
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first().action


def test_it_adds_a_key_holder_at_the_bottom_of_the_ladder(client, login, session, settings):
    enrollee = enrol(session, settings)
    login(Role.SOCIAL_WORKER)
    response = client.post(f"/enrollees/{enrollee.id}/contacts/new", data={
        "name": "Carla Neri", "relation": "friend", "phone": "333 765 1111",
        "language": "it", "holds_key": "yes"})
    assert response.status_code == 302
    assert ladder(session, enrollee.id) == [("Anna Verdi", True), ("Paolo Rossi", False),
                                            ("Carla Neri", True)]
    assert last_action(session) == "add_contact"


def test_it_shows_contact_errors_beside_their_fields(client, login, session, settings):
    enrollee = enrol(session, settings)
    login(Role.SOCIAL_WORKER)
    response = client.post(f"/enrollees/{enrollee.id}/contacts/new", data={
        "name": "Carla Neri", "relation": "friend", "phone": "12", "language": "it"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="phone-error"' in page and 'value="Carla Neri"' in page
    assert len(ladder(session, enrollee.id)) == 2


def test_it_moves_edits_and_removes_contacts(client, login, session, settings):
    enrollee = enrol(session, settings)
    anna, paolo = enrollee.contacts
    login(Role.SOCIAL_WORKER)
    base = f"/enrollees/{enrollee.id}/contacts"
    client.post(f"{base}/{paolo.id}/move", data={"direction": "up"})
    assert ladder(session, enrollee.id) == [("Paolo Rossi", False), ("Anna Verdi", True)]
    assert last_action(session) == "move_contact"
    client.post(f"{base}/{paolo.id}/edit", data={
        "name": "Paolo Rossi", "relation": "family", "phone": "+39 347 765 4321",
        "language": "it", "holds_key": "yes", "notes": "Figlio, abita in zona"})
    assert ladder(session, enrollee.id) == [("Paolo Rossi", True), ("Anna Verdi", True)]
    assert client.get(f"{base}/{anna.id}/remove").status_code == 200
    client.post(f"{base}/{anna.id}/remove")
    assert ladder(session, enrollee.id) == [("Paolo Rossi", True)]
    assert last_action(session) == "remove_contact"


def test_it_refuses_a_contact_of_another_enrollee(client, login, session, settings):
    first, second = enrol(session, settings), enrol(session, settings)
    login(Role.SOCIAL_WORKER)
    contact = second.contacts[0]
    response = client.post(f"/enrollees/{first.id}/contacts/{contact.id}/remove")
    assert response.status_code == 404
    assert len(ladder(session, second.id)) == 2
