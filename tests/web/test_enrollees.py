"""Social services' pages: enrol, see the errors, edit, suspend and end, and the view log."""

from __future__ import annotations

from sqlalchemy import select

from telecare.actor import Actor
from telecare.enrolment import service
from telecare.enrolment.record import read_enrollee
from telecare.models import (
    AuditEntry,
    Device,
    DeviceKind,
    DeviceState,
    Enrollee,
    EnrolleeState,
    Role,
)
from tests.conftest import NOW
from tests.factories import enrollee_data


def form_data(record: dict) -> dict:
    """A record as the enrolment form posts it."""
    data = {k: v for k, v in record.items() if k not in ("phones", "contacts", "lives_alone")}
    if record.get("lives_alone"):
        data["lives_alone"] = "yes"
    for i, phone in enumerate(record.get("phones", [])):
        data[f"phones-{i}-number"], data[f"phones-{i}-kind"] = phone["number"], phone["kind"]
    for i, contact in enumerate(record.get("contacts", [])):
        for name in ("name", "relation", "phone", "notes", "language"):
            data[f"contacts-{i}-{name}"] = contact.get(name, "")
        if contact.get("holds_key"):
            data[f"contacts-{i}-holds_key"] = "yes"
    return data


def enrol(session, settings, **overrides) -> Enrollee:
    data = read_enrollee(enrollee_data(**overrides), NOW.date(), settings.enrolment)
    enrollee = service.enrol(session, data, Actor("setup"), NOW)
    session.commit()
    return enrollee


def audit_actions(session, enrollee_id: int) -> list[tuple[str, str]]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "enrollee",
                                                    AuditEntry.entity_id == enrollee_id)
                           .order_by(AuditEntry.id))
    return [(e.action, e.actor) for e in rows]


def test_it_enrols_through_the_form_and_audits_it(client, login, session):
    login(Role.SOCIAL_WORKER)
    record = enrollee_data(first_name="Maria", last_name="Rossi")
    response = client.post("/enrollees/new", data=form_data(record))
    assert response.status_code == 302
    enrollee = session.scalars(select(Enrollee).where(
        Enrollee.codice_fiscale == record["codice_fiscale"])).one()
    assert response.headers["Location"] == f"/enrollees/{enrollee.id}"
    assert (enrollee.first_name, enrollee.municipality_istat, enrollee.lives_alone) == \
        ("Maria", "015146", True)
    assert [p.number for p in enrollee.phones] == ["+390226145678"]
    assert [(c.name, c.holds_key) for c in enrollee.contacts] == \
        [("Anna Verdi", True), ("Paolo Rossi", False)]
    assert audit_actions(session, enrollee.id) == [("create", "social_worker")]


def test_it_accepts_the_municipality_by_name(client, login, session):
    login(Role.SOCIAL_WORKER)
    record = enrollee_data(municipality_istat="Milano")
    assert client.post("/enrollees/new", data=form_data(record)).status_code == 302
    enrollee = session.scalars(select(Enrollee).where(
        Enrollee.codice_fiscale == record["codice_fiscale"])).one()
    assert enrollee.municipality_istat == "015146"


def test_it_shows_each_error_beside_its_field_and_keeps_what_was_typed(client, login, session):
    login(Role.SOCIAL_WORKER)
    record = enrollee_data(first_name="Giuseppina", codice_fiscale="RSSMRA38D41F20",
                           consent_date="2099-01-01")
    record["phones"] = [{"number": "12", "kind": "landline"}]
    data = form_data(record)
    # The bad number is in the form's second row, the first left empty.
    data["phones-0-number"], data["phones-1-number"], data["phones-1-kind"] = "", "12", "mobile"
    response = client.post("/enrollees/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="codice_fiscale-error"' in page
    assert 'id="consent_date-error"' in page
    assert 'id="phones-1-number-error"' in page
    assert 'href="#phones-1-number"' in page
    assert 'value="Giuseppina"' in page and 'value="12"' in page
    # Italian by default, the core's English template translated.
    assert "è nel futuro" in page
    assert session.scalar(select(Enrollee).where(Enrollee.first_name == "Giuseppina")) is None


def test_it_edits_a_record_and_keeps_its_contacts(client, login, session, settings):
    enrollee = enrol(session, settings)
    login(Role.SOCIAL_WORKER)
    page = client.get(f"/enrollees/{enrollee.id}/edit").get_data(as_text=True)
    assert f'value="{enrollee.codice_fiscale}"' in page
    record = enrollee_data(first_name=enrollee.first_name, last_name=enrollee.last_name,
                           sex=enrollee.sex.value, codice_fiscale=enrollee.codice_fiscale,
                           birth_date_value=enrollee.birth_date,
                           address_street="Viale Monza 200", contacts=[])
    response = client.post(f"/enrollees/{enrollee.id}/edit", data=form_data(record))
    assert response.status_code == 302
    session.expire_all()
    stored = session.get(Enrollee, enrollee.id)
    assert stored.address_street == "Viale Monza 200"
    assert [c.name for c in stored.contacts] == ["Anna Verdi", "Paolo Rossi"]
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.detail["fields"]) == ("update", ["address_street"])


def test_it_suspends_and_ends_with_a_reason(client, login, session, settings):
    enrollee = enrol(session, settings)
    login(Role.SOCIAL_WORKER)
    confirm = client.get(f"/enrollees/{enrollee.id}/suspend")
    assert confirm.status_code == 200 and 'name="reason"' in confirm.get_data(as_text=True)
    assert client.post(f"/enrollees/{enrollee.id}/suspend", data={"reason": ""}).status_code \
        == 422
    response = client.post(f"/enrollees/{enrollee.id}/suspend",
                           data={"reason": "Ricoverata al Niguarda"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Enrollee, enrollee.id).state is EnrolleeState.SUSPENDED
    client.post(f"/enrollees/{enrollee.id}/end", data={"reason": "Trasferita dalla figlia"})
    session.expire_all()
    stored = session.get(Enrollee, enrollee.id)
    assert (stored.state, stored.state_reason) == (EnrolleeState.ENDED, "Trasferita dalla figlia")
    assert [a for a, _ in audit_actions(session, enrollee.id)][-2:] == ["suspend", "end"]
    # An ended enrolment offers no way back.
    assert client.get(f"/enrollees/{enrollee.id}/reactivate").status_code == 302


def test_it_records_every_view_of_the_card(client, login, session, settings):
    enrollee = enrol(session, settings, first_name="Rosa")
    login(Role.OPERATOR)
    page = client.get(f"/enrollees/{enrollee.id}").get_data(as_text=True)
    assert "Rosa" in page and "Milano (MI)" in page and "Anna Verdi" in page
    assert "/edit" not in page  # operators read, they do not edit
    assert audit_actions(session, enrollee.id)[-1] == ("view", "operator")


def test_it_shows_the_persons_devices_on_the_card(client, login, session, settings):
    enrollee = enrol(session, settings)
    session.add(Device(serial="TC-000123", enrollee_id=enrollee.id, kind=DeviceKind.PENDANT,
                       state=DeviceState.ACTIVE, battery=87, last_seen_at=NOW, created_at=NOW))
    session.commit()
    login(Role.OPERATOR)
    page = client.get(f"/enrollees/{enrollee.id}").get_data(as_text=True)
    assert "TC-000123" in page and "pulsante d" in page and "batteria 87%" in page


def test_it_lists_searches_and_filters_in_pages(client, login, session, settings):
    people = [enrol(session, settings, first_name="Ada", last_name=f"Zeta{i:02d}")
              for i in range(55)]
    service.change_state(session, people[3], EnrolleeState.SUSPENDED, "ricovero",
                         Actor("setup"), NOW)
    session.commit()
    login(Role.OPERATOR)
    first = client.get("/enrollees?q=zeta").get_data(as_text=True)
    assert "Zeta00" in first and "Zeta49" in first and "Zeta50" not in first
    assert "page=2" in first
    second = client.get("/enrollees?q=zeta&page=2").get_data(as_text=True)
    assert "Zeta50" in second and "Zeta00" not in second
    suspended = client.get("/enrollees?q=zeta&state=suspended").get_data(as_text=True)
    assert "Zeta03" in suspended and "Zeta04" not in suspended
    by_cf = client.get(f"/enrollees?q={people[7].codice_fiscale}").get_data(as_text=True)
    assert "Zeta07" in by_cf and "Zeta08" not in by_cf
