"""One person's data on request: everything about them, nothing about anyone else."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from telecare.actor import Actor
from telecare.errors import ValidationFailed
from telecare.models import AuditEntry
from telecare.privacy import erasure
from telecare.privacy.export import FORMAT, export, to_json
from tests.privacy.conftest import ENDED, due_day

DPO = Actor("cli:dpo")


@pytest.fixture
def document(session, settings, ermenegilda, bortolo) -> dict:
    made = export(session, ermenegilda.enrollee_id, DPO, ENDED, settings.privacy)
    session.commit()
    return made


def test_it_holds_everything_about_the_person(document, ermenegilda, settings):
    text = to_json(document)
    assert json.loads(text) == document
    for secret in ermenegilda.secrets:
        assert secret in text, secret
    assert document["format"] == FORMAT and document["generated_by"] == "cli:dpo"
    record = document["enrollee"]
    assert (record["id"], record["first_name"], record["last_name"]) == \
        (ermenegilda.enrollee_id, "Ermenegilda", "Zanardelli")
    assert record["birth_date"] == "1938-04-17" and record["health_notes"] == "Pacemaker dal 2019"
    assert document["retention"] == {"retention_days": 365,
                                     "erasure_due_at": due_day(settings).isoformat(),
                                     "erased_at": None}
    assert [p["number"] for p in document["phones"]] == ermenegilda.numbers[:2]
    assert [(c["name"], c["phone"]) for c in document["contacts"]] == [
        ("Teodolinda Brambilla", ermenegilda.numbers[2])]
    assert document["consent"] == {"date": "2024-11-01",
                                   "note": "Firmato dal nipote di Ermenegilda"}
    [device] = document["devices"]
    assert device["serial"] == "PND-ERM-1" and [e["type"] for e in device["events"]] == ["alarm"]
    alarms = document["alarms"]
    assert [a["id"] for a in alarms] == ermenegilda.alarm_ids
    assert [e["kind"] for e in alarms[0]["timeline"]][:3] == ["opened", "step", "call"]
    assert [n["channel"] for n in alarms[0]["notifications"]] == ["voice", "sms"]
    [weekly, planned] = document["planned_calls"]
    assert weekly["result"] == "concern"
    assert [entry["note"] for entry in weekly["log"]] == ["Preoccupata per la bolletta"]
    assert planned["state"] == "planned"
    assert sorted(c["purpose"] for c in document["calls"]) == [
        "campaign:scam", "courtesy", "escalation"]
    assert [t["direction"] for t in document["texts"]] == ["outbound"]
    assert [w["campaign"]["title"] for w in document["warnings"]] == ["Truffa"]
    assert [e["action"] for e in document["audit"]] == ["create", "view", "end", "export"]


def test_it_holds_nothing_of_another_person(document, bortolo):
    text = to_json(document)
    for secret in bortolo.secrets:
        assert secret not in text, secret
    assert str(bortolo.enrollee_id) not in {str(a["entity_id"]) for a in document["audit"]}


def test_it_is_written_to_the_audit_log(session, document, ermenegilda):
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert (entry.entity_type, entry.entity_id, entry.actor, entry.detail) == \
        ("enrollee", ermenegilda.enrollee_id, "cli:dpo", {"format": "json"})


def test_it_lists_the_api_pages_that_returned_the_record(session, settings, ermenegilda,
                                                         bortolo):
    from telecare import audit

    audit.record(session, Actor("api:anagrafe"), "list", "enrollee", None, ENDED,
                 ids=[bortolo.enrollee_id, ermenegilda.enrollee_id])
    audit.record(session, Actor("api:anagrafe"), "list", "enrollee", None, ENDED,
                 ids=[bortolo.enrollee_id])
    made = export(session, ermenegilda.enrollee_id, DPO, ENDED, settings.privacy)
    assert [e["actor"] for e in made["audit"] if e["action"] == "list"] == ["api:anagrafe"]


def test_an_erased_record_exports_what_is_left(session, settings, ermenegilda):
    erasure.erase(session, ermenegilda.enrollee_id, DPO, due_day(settings))
    session.commit()
    made = to_json(export(session, ermenegilda.enrollee_id, DPO, due_day(settings),
                          settings.privacy))
    for secret in ermenegilda.secrets:
        assert secret not in made, secret
    assert json.loads(made)["retention"]["erased_at"] == due_day(settings).isoformat()


def test_it_names_a_record_that_does_not_exist(session, settings):
    with pytest.raises(ValidationFailed, match="enrollee_id: there is no record 999999"):
        export(session, 999999, DPO, ENDED, settings.privacy)
