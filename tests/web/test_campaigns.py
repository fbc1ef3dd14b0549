"""The warnings pages: report a scam, see who will hear it, send, follow, cancel; heat levels."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from telecare.models import (
    AuditEntry,
    Campaign,
    CampaignDelivery,
    CampaignState,
    DeliveryState,
    HeatForecast,
    Role,
)
from tests.conftest import NOW
from tests.web.test_enrollees import enrol

REPORT = {"municipality": "015032", "scam_kind": "fake_carabiniere",
          "message_it": "Attenzione: falsi carabinieri chiedono soldi e gioielli.",
          "message_en": "", "channel": "voice", "valid_from": "2026-11-28",
          "valid_until": "2026-12-12", "with_neighbours": "yes"}


def test_it_previews_the_recipients_by_municipality_before_sending(client, login, session,
                                                                   settings):
    enrol(session, settings, municipality_istat="015032")
    enrol(session, settings, municipality_istat="015146")
    enrol(session, settings, municipality_istat="015027")  # Bollate: not Bresso's neighbour
    session.commit()
    login(Role.OPERATOR)
    preview = client.post("/campaigns/scam/new", data=dict(REPORT, action="preview"))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "2 persone saranno avvisate" in page
    assert re.search(r"<td>Bresso</td><td>–</td><td class=\"num\">1</td>", page)
    assert re.search(r"<td>Milano</td><td>–</td><td class=\"num\">1</td>", page)
    assert "Bollate" not in page
    assert session.scalars(select(Campaign)).all() == []  # nothing sent by a preview

    sent = client.post("/campaigns/scam/new", data=dict(REPORT, action="send"))
    assert sent.status_code == 302
    campaign = session.scalars(select(Campaign)).one()
    assert (campaign.area_municipality, campaign.state) == ("015032", CampaignState.QUEUED)
    assert campaign.messages == {"it": REPORT["message_it"]}
    deliveries = session.scalars(select(CampaignDelivery)).all()
    assert {d.state for d in deliveries} == {DeliveryState.QUEUED} and len(deliveries) == 2
    shown = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Persone avvisate: 2" in shown or "In attesa" in shown
    # The operator reads the kind of scam in words, on the warning and in the list.
    listed = client.get("/campaigns").get_data(as_text=True)
    for page in (shown, listed):
        assert "Falso carabiniere o poliziotto: Bresso" in page
        assert "fake_carabiniere" not in page


def test_it_names_each_mistake_of_a_report_beside_its_field(client, login):
    login(Role.SUPERVISOR)
    response = client.post("/campaigns/scam/new", data=dict(
        REPORT, municipality="999999", message_it="", valid_until="2020-01-01",
        action="preview"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "999999 non è nell&#39;elenco ISTAT dei comuni" in page
    assert "è obbligatorio" in page
    assert "è nel passato" in page


def test_it_cancels_what_has_not_gone_out(client, login, session, settings):
    enrol(session, settings, municipality_istat="015032")
    session.commit()
    login(Role.OPERATOR)
    location = client.post("/campaigns/scam/new",
                           data=dict(REPORT, action="send")).headers["Location"]
    campaign_id = int(location.rsplit("/", 1)[1])
    response = client.post(f"/campaigns/{campaign_id}/cancel")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Campaign, campaign_id).state == CampaignState.CANCELLED
    assert {d.state for d in session.scalars(select(CampaignDelivery))} == {
        DeliveryState.CANCELLED}
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "campaign")).all()
    assert actions == ["send", "cancel"]


def test_it_shows_the_heat_levels_of_the_bulletin_cities(client, login, session):
    session.add(HeatForecast(city="MILANO", day=NOW.date(), level=3, issued_on=NOW.date(),
                             source="manual", updated_at=NOW))
    session.add(HeatForecast(city="ROMA", day=date(2026, 11, 29), level=2,
                             issued_on=NOW.date(), source="manual", updated_at=NOW))
    session.commit()
    login(Role.SOCIAL_WORKER)
    page = client.get("/campaigns/heat").get_data(as_text=True)
    assert '<span class="heat heat-3">3 · rosso</span>' in page
    assert '<span class="heat heat-2">2 · arancione</span>' in page
    assert page.index("Milano") < page.index("Roma") < page.index("Torino")  # worst first
