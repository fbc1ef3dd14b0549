"""A social worker signs in and enrols someone in a real browser."""

from sqlalchemy import select

from telecare.db import session_scope
from telecare.models import AuditEntry, Enrollee
from tests.browser.conftest import PASSWORD
from tests.factories import enrollee_data


def test_it_lets_a_social_worker_sign_in_and_enrol_someone(page, live_server, live_runtime):
    person = enrollee_data()
    page.goto(live_server + "/enrollees/new")
    # Anonymous: sent to the sign-in page first, then back to the form.
    page.fill("input[name=username]", "social_worker")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/enrollees/new")

    for name in ("first_name", "last_name", "codice_fiscale", "address_street",
                 "address_floor", "address_postal_code"):
        page.fill(f"[name={name}]", person[name])
    page.select_option("[name=sex]", person["sex"])
    page.fill("[name=birth_date]", person["birth_date"])
    page.fill("[name=municipality_istat]", "Milano")
    page.fill("[name=phones-0-number]", "02 2614 5678")
    page.fill("[name=consent_date]", person["consent_date"])
    page.fill("[name=health_notes]", "Diabete di tipo 2")
    page.locator("main button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")

    assert person["first_name"] in page.locator("h1").inner_text()
    assert "+39 02 2614 5678" in page.content()
    with session_scope(live_runtime.sessions) as session:
        stored = session.scalars(select(Enrollee)).one()
        assert (stored.codice_fiscale, stored.municipality_istat, stored.health_notes) == (
            person["codice_fiscale"], "015146", "Diabete di tipo 2")
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_type == "enrollee")).all()
        assert actions[:2] == ["create", "view"]
