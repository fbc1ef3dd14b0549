"""An engine stopping in the middle of a batch: what went out is recorded, the rest goes back.

The senders' pool has one thread here; the first text hangs on the phone network while the
engine is told to stop. The texts still queued behind it must come back to pending, for the
next engine, so that every text of the batch is sent once: none lost, none twice.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from sqlalchemy import select

from alerts import engine as engine_module
from alerts.engine import Engine
from telecare.models import AlarmEvent, AlarmNotification, NotificationState

NUMBERS = [f"+39333000000{i}" for i in range(5)]


class PhoneNetwork:
    """The real sender to the Twilio stand-in; the first text hangs until `release` is set."""

    def __init__(self, sender, hang_first: bool):
        self.sender = sender
        self.texts: list[str] = []
        self.first_arrived, self.release = threading.Event(), threading.Event()
        self.hang_first = hang_first
        self._lock = threading.Lock()

    def call(self, to, **_kwargs) -> int:
        raise AssertionError(f"no call expected (to {to})")

    def text(self, to: str, body: str, *, purpose: str) -> int:
        with self._lock:
            self.texts.append(to)
            first = len(self.texts) == 1
        if first and self.hang_first:
            self.first_arrived.set()
            assert self.release.wait(15), "the test never released the first text"
        return self.sender.text(to, body, purpose=purpose)


class ObservedPool(ThreadPoolExecutor):
    """The engine's pool, saying when its queued work has been cancelled."""

    made: list[ObservedPool] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cancelled = threading.Event()
        ObservedPool.made.append(self)

    def shutdown(self, wait=True, *, cancel_futures=False):
        super().shutdown(wait=False, cancel_futures=cancel_futures)  # cancels the queue now
        self.cancelled.set()
        super().shutdown(wait=wait)


def queue_texts(ladder, alarm_id: int) -> None:
    now = ladder.clock.now()
    with ladder.sessions() as session:
        for i, number in enumerate(NUMBERS):
            session.add(AlarmNotification(
                alarm_id=alarm_id, key=f"{alarm_id}:stop-test:{i}", step=2,
                target=f"contact-{i}", name=f"Contact {i}", channel="sms", number=number,
                state=NotificationState.PENDING, created_at=now, updated_at=now))
        session.commit()


def states(ladder) -> dict[str, str]:
    with ladder.sessions() as session:
        return {n.number: n.state.value for n in session.scalars(select(AlarmNotification))}


def test_an_engine_stopping_mid_batch_gives_the_unsent_back_and_the_next_engine_sends_them(
        ladder, monkeypatch):
    alarm_id, _device = ladder.taken_up()
    queue_texts(ladder, alarm_id)
    runtime = ladder.live.runtime
    runtime.settings = runtime.settings.replace(
        alerts=replace(runtime.settings.alerts, senders=1))
    monkeypatch.setattr(engine_module, "ThreadPoolExecutor", ObservedPool)

    first_network = PhoneNetwork(ladder.engine.sender, hang_first=True)
    first = Engine(runtime, first_network).start()
    assert first_network.first_arrived.wait(15), "the engine never sent the first text"
    stopping = threading.Thread(target=first.stop)
    stopping.start()
    assert ObservedPool.made[-1].cancelled.wait(15)
    first_network.release.set()  # the text on the line goes out; the engine then stops
    stopping.join(20)
    assert not stopping.is_alive()

    [sent] = first_network.texts
    after_stop = states(ladder)
    assert after_stop[sent] == "sent"
    assert sorted(n for n, state in after_stop.items() if state == "pending") == sorted(
        set(NUMBERS) - {sent}), "the four queued texts are pending again, not lost"

    second_network = PhoneNetwork(ladder.engine.sender, hang_first=False)
    Engine(runtime, second_network).run_once()
    assert sorted(first_network.texts + second_network.texts) == sorted(NUMBERS)
    assert set(states(ladder).values()) == {"sent"}
    with ladder.sessions() as session:
        on_timeline = session.scalars(select(AlarmEvent).where(
            AlarmEvent.alarm_id == alarm_id, AlarmEvent.kind == "sms")).all()
    assert sorted(event.detail["number"] for event in on_timeline) == sorted(NUMBERS)
    # And what the phone network itself saw: one text to each number.
    ladder.sim.wait_idle()
    assert sorted(message.to for message in ladder.sim.messages) == sorted(NUMBERS)
