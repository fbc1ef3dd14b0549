"""The automated caller: a short sweep that claims the due planned calls and dials them.

State lives in `planned_call` (state, next_attempt_at, attempts), never in memory. A sweep
claims due rows in one transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
writer at a time) and marks them `calling` before any phone rings, so two processes or a
restart never ring anyone twice. Nobody is rung at night: calls due then, or left overdue
by downtime, are made when the calling day starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from telecare.clock import Clock
from telecare.courtesy import attempts, call_flow
from telecare.courtesy.calendar import CallCalendar
from telecare.db import begin_writing, session_scope
from telecare.models import (
    CallKind,
    CallMode,
    CallResult,
    Device,
    DeviceState,
    Enrollee,
    PlannedCall,
    PlannedCallState,
)
from telecare.settings import Settings
from telecare.telephony.calls import ContactLimitReached, Dialer
from telecare.telephony.port import TelephonyError

log = logging.getLogger(__name__)

# The lines read to a person this week (heat, scams nearby, municipal news): campaigns
# provide them; the composition root connects the two. (session, enrollee, local day).
NewsSource = Callable[[Session, Enrollee, date], list[str]]
BATCH = 50


@dataclass
class Sweep:
    placed: list[int] = field(default_factory=list)  # planned calls rung
    failed: int = 0
    expired: int = 0
    postponed: int = 0


@dataclass(frozen=True)
class _Call:
    planned_id: int
    attempt: int
    number: str | None
    language: str
    params: dict


class PlannedCaller:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], dialer: Dialer,
                 clock: Clock, news: NewsSource | None = None, batch: int = BATCH):
        self.settings, self.sessions, self.dialer, self.clock = settings, sessions, dialer, clock
        self.calendar = CallCalendar.from_settings(settings)
        self.news, self.batch = news, batch
        # When a sweep last got something done (time.monotonic()): the service's beat reads
        # it, so a caller stuck mid-sweep stops looking alive, and a long one still does.
        self.progressed_at = time.monotonic()
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Finish the call being dialled and give the rest of the batch back, uncounted: at
        one call a second a morning's batch would outlast a service manager's stop timeout."""
        self._stopping.set()

    def run_once(self) -> Sweep:
        """One sweep: settle stale attempts, then claim and dial what is due (in the calling
        day only: nobody is rung at night)."""
        sweep = Sweep()
        now = self.clock.now()
        sweep.expired = self._expire(now)
        self.progressed_at = time.monotonic()
        if self.calendar.in_daytime(now) != now:
            return sweep
        while not self._stopping.is_set():
            calls = self._claim(now)
            for index, call in enumerate(calls):
                if self._stopping.is_set():
                    for left in calls[index:]:
                        self._give_back(left, now)
                    return sweep
                try:
                    self._dial(call, sweep)
                except Exception:
                    # The rest of the batch still rings. This one stays `calling` until its
                    # lease runs out: it may have rung, so it is never placed again blindly.
                    log.exception("planned call %s: attempt %s failed unexpectedly",
                                  call.planned_id, call.attempt)
                self.progressed_at = time.monotonic()
            if len(calls) < self.batch:
                return sweep
        return sweep

    # -- claiming ----------------------------------------------------------------------------

    def _claim(self, now: datetime) -> list[_Call]:
        with session_scope(self.sessions) as session:
            begin_writing(session)
            due = session.scalars(
                select(PlannedCall)
                .where(PlannedCall.state == PlannedCallState.PLANNED,
                       PlannedCall.mode == CallMode.AUTOMATED,
                       PlannedCall.next_attempt_at <= now)
                .order_by(PlannedCall.next_attempt_at, PlannedCall.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)).all()
            if not due:
                return []
            enrollees = {e.id: e for e in session.scalars(
                select(Enrollee).where(Enrollee.id.in_({p.enrollee_id for p in due}))
                .options(selectinload(Enrollee.phones)))}
            with_devices = set(session.scalars(select(Device.enrollee_id).where(
                Device.enrollee_id.in_(enrollees), Device.state == DeviceState.ACTIVE)))
            calls = []
            for planned in due:
                enrollee = enrollees[planned.enrollee_id]
                attempts.start(planned, now)
                calls.append(_Call(
                    planned.id, planned.attempts,
                    enrollee.phones[0].number if enrollee.phones else None,
                    enrollee.language,
                    {**call_flow.params_for(
                        planned, enrollee.full_name, self._news(session, enrollee, now),
                        check_button=(planned.kind == CallKind.COURTESY
                                      and enrollee.id in with_devices),
                        operator_number=self.settings.alerts.operator_number),
                     "attempt": planned.attempts}))
            return calls

    def _news(self, session: Session, enrollee: Enrollee, now: datetime) -> list[str]:
        if self.news is None:
            return []
        try:
            with session.begin_nested():
                return self.news(session, enrollee, self.calendar.local(now).date())
        except Exception:  # the call matters more than its news
            log.exception("planned calls: no news for enrollee %s", enrollee.id)
            return []

    # -- dialling ----------------------------------------------------------------------------

    def _dial(self, call: _Call, sweep: Sweep) -> None:
        if call.number is None:
            self._settle(call, CallResult.FAILED, "no phone number on the enrolment", sweep)
            return
        try:
            attempt_id = self.dialer.call(call.number, purpose=call_flow.PURPOSE,
                                          script=call_flow.SCRIPT, language=call.language,
                                          params=call.params, expected_digit="1")
        except ContactLimitReached as exc:
            self._postpone(call, str(exc))
            sweep.postponed += 1
            return
        except TelephonyError as exc:
            result = CallResult.WRONG_NUMBER if exc.bad_number else CallResult.FAILED
            self._settle(call, result, exc.message, sweep)
            return
        with session_scope(self.sessions) as session:
            begin_writing(session)
            planned = session.get(PlannedCall, call.planned_id)
            # The status callback may have been quicker than us: keep what it settled.
            if planned.state == PlannedCallState.CALLING and planned.attempts == call.attempt:
                planned.call_attempt_id = planned.call_attempt_id or attempt_id
        sweep.placed.append(call.planned_id)

    def _settle(self, call: _Call, result: CallResult, detail: str, sweep: Sweep) -> None:
        log.warning("planned call %s: attempt %s %s (%s)", call.planned_id, call.attempt,
                    result.value, detail)
        with session_scope(self.sessions) as session:
            begin_writing(session)
            planned = session.get(PlannedCall, call.planned_id)
            attempts.finish(session, planned, result, self.settings.calls, self.calendar,
                            self.clock.now(), detail=detail)
        sweep.failed += 1

    def _postpone(self, call: _Call, reason: str) -> None:
        """The number was rung too often lately (by campaigns, say): try later, uncounted."""
        window = timedelta(minutes=self.settings.telephony.contact_window_minutes)
        self._give_back(call, self.calendar.in_daytime(self.clock.now() + window))
        log.info("planned call %s postponed: %s", call.planned_id, reason)

    def _give_back(self, call: _Call, due: datetime) -> None:
        """Undo a claim that never rang: planned again, due at `due`, the attempt uncounted."""
        with session_scope(self.sessions) as session:
            begin_writing(session)
            planned = session.get(PlannedCall, call.planned_id)
            if planned.state == PlannedCallState.CALLING and planned.attempts == call.attempt:
                planned.state = PlannedCallState.PLANNED
                planned.attempts -= 1
                planned.attempt_started_at = None
                planned.next_attempt_at = due

    # -- stale attempts ----------------------------------------------------------------------

    def _expire(self, now: datetime) -> int:
        """Calls placed but never reported ended (a lost callback): unanswered attempts."""
        cutoff = now - timedelta(minutes=self.settings.calls.lease_minutes)
        with session_scope(self.sessions) as session:
            begin_writing(session)
            stale = session.scalars(
                select(PlannedCall)
                .where(PlannedCall.state == PlannedCallState.CALLING,
                       PlannedCall.mode == CallMode.AUTOMATED,
                       PlannedCall.attempt_started_at < cutoff)
                .limit(self.batch).with_for_update(skip_locked=True)).all()
            for planned in stale:
                attempts.finish(session, planned, CallResult.NO_ANSWER, self.settings.calls,
                                self.calendar, now, detail="no report from the phone network")
            return len(stale)
