"""Alarm buttons to check: flagged by the weekly call, listed for operators, closed with a note."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from telecare.models import (
    ButtonCheck,
    CallKind,
    CallMode,
    CallResult,
    Device,
    DeviceState,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
    Role,
)
from tests.conftest import NOW
from tests.web.test_enrollees import enrol


def flagged_call(session, enrollee, *, days_ago: float = 1) -> PlannedCall:
    at = NOW - timedelta(days=days_ago)
    call = PlannedCall(enrollee_id=enrollee.id, kind=CallKind.COURTESY,
                       mode=CallMode.AUTOMATED, occasion=at.date(), planned_at=at,
                       state=PlannedCallState.DONE, attempts=1, result=CallResult.WELL,
                       button_check=ButtonCheck.FLAGGED, button_asked_at=at,
                       completed_at=at, created_at=at, updated_at=at)
    session.add(call)
    session.commit()
    return call


def test_operators_see_the_flags_and_close_one_with_what_they_found(client, login, session,
                                                                     settings):
    maria, carla, old = (enrol(session, settings) for _ in range(3))
    session.add(Device(serial="PND-C1", enrollee_id=carla.id, state=DeviceState.ACTIVE,
                       created_at=NOW, last_test_at=NOW - timedelta(hours=2)))
    call = flagged_call(session, maria)
    tested = flagged_call(session, carla)
    flagged_call(session, old, days_ago=10)  # the next weekly call has checked again since
    login(Role.OPERATOR)

    page = client.get("/calls").get_data(as_text=True)
    assert f'data-call-id="{call.id}"' in page and f'data-call-id="{tested.id}"' in page
    assert old.last_name not in page
    assert "testato dopo" in page  # Carla's button has sent a test since the call

    refused = client.post(f"/calls/{call.id}/button-checked", data={"note": "  "})
    assert refused.status_code == 302
    session.expire_all()
    assert session.get(PlannedCall, call.id).button_check == ButtonCheck.FLAGGED

    closed = client.post(f"/calls/{call.id}/button-checked",
                         data={"note": "Pila scarica, sostituita dal vicino; premuto, funziona"})
    assert closed.status_code == 302
    session.expire_all()
    assert session.get(PlannedCall, call.id).button_check == ButtonCheck.CHECKED
    [entry] = session.scalars(select(PlannedCallLog).where(
        PlannedCallLog.planned_call_id == call.id)).all()
    assert entry.note.startswith("Pila scarica") and entry.detail == "button checked"
    assert f'data-call-id="{call.id}"' not in client.get("/calls").get_data(as_text=True)

    again = client.post(f"/calls/{call.id}/button-checked", data={"note": "di nuovo"})
    assert again.status_code == 302
    assert len(session.scalars(select(PlannedCallLog).where(
        PlannedCallLog.planned_call_id == call.id)).all()) == 1
