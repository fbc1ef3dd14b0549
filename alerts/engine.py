"""The escalation engine: walks each open alarm up its ladder until someone takes charge.

State lives on the alarm (`step`, `next_step_at`) and in its notifications, never in memory:
a sweep claims the due alarms in one transaction (FOR UPDATE SKIP LOCKED on PostgreSQL;
SQLite has one writer at a time), decides, writes the notifications with their unique keys
and commits. Senders then claim each pending notification with a conditional UPDATE and
place it. Two engines on one database, or one restarted, never phone anyone twice, and
what one was doing when it died is picked up by the next sweep.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload

from alerts import ladder as ladders
from alerts.messages import Placed, SenderPort, notify, record
from alerts.policy import PHONING, Policy, PolicyBook, load_book, policy_for
from telecare import alarms
from telecare.db import begin_writing, session_scope
from telecare.models import (
    Alarm,
    AlarmNotification,
    AlarmState,
    Enrollee,
    NotificationState,
)
from telecare.quiet import quiet_until
from telecare.runtime import Runtime

log = logging.getLogger(__name__)

CLAIM_BATCH = 200
SEND_BATCH = 200
# A notification claimed by a process that died before placing it: after this it is given
# up as failed (never placed twice); the ladder has moved on by its own timeouts meanwhile.
SENDING_LEASE = timedelta(minutes=2)


class Engine:
    def __init__(self, runtime: Runtime, sender: SenderPort, book: PolicyBook | None = None):
        self.runtime = runtime
        self.settings = runtime.settings
        self.sender = sender
        self.book = book or load_book(runtime.settings)
        self._wake = threading.Event()  # set: sweep now
        self._send = threading.Event()  # set: notifications are waiting to be placed
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        # When the deciding loop last finished a round (time.monotonic()): the service's
        # beat reads it, so an engine stuck mid-sweep stops looking alive.
        self.progressed_at = time.monotonic()

    # -- running in the background -----------------------------------------------------------

    def start(self) -> Engine:
        self._pool = ThreadPoolExecutor(self.settings.alerts.senders,
                                        thread_name_prefix="alerts-sender")
        for target, name in ((self._decide, "alerts-engine"), (self._place, "alerts-senders")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Finish the calls and texts being placed; give back, pending, the ones queued."""
        self._stop.set()
        self._wake.set()
        self._send.set()
        if self._pool is not None:
            # Running placements finish; queued ones are cancelled, and the placing thread
            # puts them back to pending for the next engine (never lost, never doubled).
            self._pool.shutdown(wait=True, cancel_futures=True)
        for thread in self._threads:
            thread.join(timeout=10)

    def wake(self, *_args, **_kwargs) -> None:
        """A new alarm: sweep now rather than at the next tick (connected to alarm_opened)."""
        self._wake.set()

    def _decide(self) -> None:
        every = self.settings.alerts.sweep_interval_ms / 1000
        while not self._stop.is_set():
            self._wake.wait(every)
            self._wake.clear()
            try:
                while not self._stop.is_set():
                    due = self.sweep()
                    if due:
                        self._send.set()  # the first calls go out while the rest is decided
                    if due < CLAIM_BATCH:
                        break
                self.progressed_at = time.monotonic()
            except Exception:
                # The loop outlives any one bad alarm or a database away for a moment.
                log.exception("alerts: sweep failed; trying again")

    def _place(self) -> None:
        every = self.settings.alerts.sweep_interval_ms / 1000
        while not self._stop.is_set():
            self._send.wait(every)
            self._send.clear()
            try:
                while not self._stop.is_set():
                    claimed = self.claim_pending()
                    notify(self.runtime, self.sender, claimed, self._pool)
                    if len(claimed) < SEND_BATCH:
                        break
            except Exception:
                log.exception("alerts: placing notifications failed; trying again")

    # -- deciding ----------------------------------------------------------------------------

    def sweep(self) -> int:
        """Advance every due alarm one rung (or to its time box); returns how many were due."""
        try:
            return self._sweep(careful=False)
        except DBAPIError:
            raise
        except Exception:
            # One broken alarm spoiled the batch: again, one savepoint per alarm, so the
            # others go on and the broken one is logged and looked at again in a minute.
            log.exception("alerts: a sweep failed; again alarm by alarm")
            return self._sweep(careful=True)

    def _sweep(self, careful: bool) -> int:
        now = self.runtime.clock.now()
        with session_scope(self.runtime.sessions) as session:
            begin_writing(session)
            # FOR NO KEY UPDATE (key_share): the senders' timeline inserts reference these
            # rows, and a plain FOR UPDATE would make every one of them wait for this sweep.
            due = session.scalars(
                select(Alarm).where(Alarm.next_step_at <= now,
                                    Alarm.state != AlarmState.RESOLVED)
                .order_by(Alarm.next_step_at).limit(CLAIM_BATCH)
                .with_for_update(skip_locked=True, key_share=True)).all()
            # Held here: the session's identity map keeps only what someone references.
            people = self._load_people(session, [a.enrollee_id for a in due if a.step < 0])
            policies: dict[str, Policy] = {}  # read once per kind and sweep
            with session.no_autoflush:
                for alarm in due:
                    if not careful:  # the usual case: one flush for the whole batch
                        self.advance(session, alarm, now, policies)
                        continue
                    try:
                        with session.begin_nested():
                            self.advance(session, alarm, now, policies)
                    except DBAPIError:
                        raise
                    except Exception:
                        log.exception("alerts: could not advance alarm %s", alarm.id)
                        alarm.next_step_at = now + timedelta(minutes=1)
        del people
        return len(due)

    def advance(self, session: Session, alarm: Alarm, now: datetime,
                policies: dict[str, Policy]) -> None:
        if alarm.state == AlarmState.ACKNOWLEDGED:
            alarms.requeue(session, alarm, now)  # taken charge of, never closed
            return
        if alarm.step < 0:
            self._take_up(session, alarm, now, policies)
            index, forced = (0 if alarm.ladder else None), False
        else:
            index, forced = ladders.next_rung(alarm.ladder, alarm.step, now, alarm.time_box_at,
                                              alarm.escalated_at is not None)
        if index is None:
            alarm.next_step_at = None  # the last rung waits for an operator
            return
        rung = alarm.ladder[index]
        if rung["action"] in PHONING and rung.get("quiet_hours") and not forced:
            until = quiet_until(now, self.settings.zone, self.settings.alerts.quiet_start,
                                self.settings.alerts.quiet_end)
            if until is not None:
                alarms.record(session, alarm, "deferred", now, step=index,
                              action=rung["action"], until=until.isoformat())
                # The night does not count against the time box: a gentle ladder waits, and
                # in the morning walks from the person, not straight to the supervisor.
                if alarm.time_box_at is not None and alarm.escalated_at is None:
                    alarm.time_box_at += until - now
                alarm.next_step_at = until
                return
        if forced:
            alarms.record(session, alarm, "time_box", now, step=index,
                          minutes=round((now - alarm.opened_at).total_seconds() / 60, 1))
        alarm.step = index
        if rung["action"] in ladders.FINAL_ACTIONS and alarm.escalated_at is None:
            alarm.escalated_at = now
        detail = {"step": index, "action": rung["action"],
                  "to": [t["name"] for t in rung.get("targets", [])]}
        if rung["action"] == "emergency":
            service = self.book.service_for(alarm.kind.value)
            detail |= {"service": service.name, "number": service.number}
        alarms.record(session, alarm, "step", now, **detail)
        self._notifications(session, alarm, index, rung, now)
        alarm.next_step_at = ladders.due_after(rung, now, alarm.time_box_at,
                                               alarm.escalated_at is not None)

    @staticmethod
    def _load_people(session: Session, enrollee_ids: list[int | None]) -> list[Enrollee]:
        """The people whose alarms are being taken up, with phones and contacts, in 3 queries
        rather than 3 per alarm (a storm of presses is taken up in one go)."""
        wanted = [i for i in enrollee_ids if i is not None]
        if not wanted:
            return []
        return session.scalars(select(Enrollee).where(Enrollee.id.in_(wanted)).options(
            selectinload(Enrollee.phones), selectinload(Enrollee.contacts))).all()

    def _take_up(self, session: Session, alarm: Alarm, now: datetime,
                 policies: dict[str, Policy]) -> None:
        """Copy the policy onto the alarm, with this person's contacts in their order."""
        kind = alarm.kind.value
        if kind not in policies:
            policies[kind] = policy_for(session, self.book, kind)
        policy = policies[kind]
        enrollee = session.get(Enrollee, alarm.enrollee_id) if alarm.enrollee_id else None
        alarm.policy = policy.kind
        alarm.ladder = ladders.make_ladder(policy, enrollee,
                                           self.settings.alerts.supervisor_numbers)
        alarm.time_box_at = alarm.opened_at + timedelta(minutes=policy.time_box_minutes)
        alarm.ack_timeout_s = policy.ack_timeout_minutes * 60
        alarm.step = -1

    def _notifications(self, session: Session, alarm: Alarm, index: int, rung: dict,
                       now: datetime) -> None:
        # The alarm's row is claimed by this sweep, so nobody else is writing its rung; the
        # unique key is the last guard, and a clash rolls back this alarm's savepoint only.
        for target in rung.get("targets", []):
            for channel in target["channels"]:
                session.add(AlarmNotification(
                    alarm_id=alarm.id,
                    key=ladders.notification_key(alarm.id, index, target["target"], channel),
                    step=index, target=target["target"], name=target["name"], channel=channel,
                    number=target["number"], language=target.get("language", "it"),
                    state=NotificationState.PENDING, created_at=now, updated_at=now))

    # -- sending -----------------------------------------------------------------------------

    def claim_pending(self) -> list[int]:
        """Take a batch of pending notifications for this process, in one conditional UPDATE."""
        now = self.runtime.clock.now()
        waiting = (AlarmNotification.state == NotificationState.PENDING)
        abandoned = (AlarmNotification.state == NotificationState.SENDING) & (
            AlarmNotification.updated_at < now - SENDING_LEASE)
        with session_scope(self.runtime.sessions) as session:
            # Look first without the write lock: on SQLite, taking it twice a second for
            # nothing would make the bridge's alarm commits wait behind us.
            if session.scalar(select(AlarmNotification.id).where(waiting | abandoned)
                              .limit(1)) is None:
                return []
            session.rollback()
            begin_writing(session)
            # Marked here, so only one engine writes each on the timeline below.
            given_up = session.scalars(
                update(AlarmNotification).where(abandoned)
                .values(state=NotificationState.FAILED, updated_at=now)
                .returning(AlarmNotification.id)
                .execution_options(synchronize_session=False)).all()
            # Chosen first, then updated by id: as a subquery of the UPDATE, PostgreSQL may
            # run a LIMIT ... SKIP LOCKED more than once and claim more than a batch.
            chosen = session.scalars(
                select(AlarmNotification.id).where(waiting)
                .order_by(AlarmNotification.id).limit(SEND_BATCH)
                .with_for_update(skip_locked=True, key_share=True)).all()
            # The state in the WHERE as well: another engine may have taken some meanwhile.
            claimed = session.scalars(
                update(AlarmNotification)
                .where(AlarmNotification.id.in_(chosen), waiting)
                .values(state=NotificationState.SENDING, updated_at=now)
                .returning(AlarmNotification.id)
                .execution_options(synchronize_session=False)).all()
        if given_up:
            # Claimed by a process that stopped while placing them: never placed twice,
            # failed, and on the timeline for the operator.
            record(self.runtime, [Placed(i, error="abandoned by a process that stopped "
                                                  "while placing it") for i in given_up])
        return sorted(claimed)

    def run_once(self) -> None:
        """One sweep and the sends it decided, in this thread: what tests and benches drive."""
        while self.sweep() == CLAIM_BATCH:
            pass
        notify(self.runtime, self.sender, self.claim_pending())
