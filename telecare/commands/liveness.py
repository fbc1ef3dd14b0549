"""How each running part shows it is alive, and the self-watch that notices when one is not.

The parts keep their own progress markers (the engine's and the caller's `progressed_at`,
the bridge's connection and commits, the campaign loop's ticks); here they become probes for
telecare.beats, and the self-watch (telecare.selfwatch) is started with what it should do
beyond opening its alarm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from telecare import beats
from telecare.runtime import Runtime
from telecare.selfwatch import SelfWatch
from telecare.telephony.port import TelephonyError
from telecare.telephony.sms import Messenger
from telecare.telephony.twilio_adapter import TwilioTelephony

log = logging.getLogger(__name__)


def quiet_allowed(runtime: Runtime, period_s: float = 0.0) -> float:
    """How long a part may go without progress and still beat: half the staleness, so the
    beat stops well before the part is called stale, and never less than three rounds of a
    part that works every `period_s`."""
    return max(runtime.settings.service.stale_after_s / 2, 3 * period_s)


def bridge_probe(bridge, quiet_s: float) -> beats.Probe:
    """Alive while connected (events and heartbeats) and its event worker keeps up."""
    seen = {"batches": bridge.stats.committed_batches, "moved": time.monotonic()}

    def probe() -> tuple[bool, dict]:
        now = time.monotonic()
        # Read-only look at the worker's queue: messages received and not yet committed.
        waiting = bridge._queue.qsize()
        batches = bridge.stats.committed_batches
        if batches != seen["batches"] or waiting == 0:
            seen["batches"], seen["moved"] = batches, now
        connected = bridge.wait_connected(0)
        stuck = now - seen["moved"] > quiet_s
        return connected and not stuck, {
            "connected": connected, "waiting": waiting, "events": bridge.stats.events,
            "duplicates": bridge.stats.duplicates, "status": bridge.stats.status,
            "heartbeats": bridge.heartbeats_received, "refused": bridge.refused}

    return probe


@contextmanager
def beating(runtime: Runtime) -> Iterator[beats.Beats]:
    """This process's beats for as long as the block runs; parts are added as they start.

    Entered before the parts and left after them, so the last beat of each says "stopped".
    """
    running = beats.Beats(runtime.sessions, runtime.clock,
                          runtime.settings.service.beat_interval_s).start()
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def self_watch_running(runtime: Runtime) -> Iterator[SelfWatch]:
    service = runtime.settings.service
    watch = SelfWatch(runtime.sessions, runtime.clock, service.stale_after_s,
                      service.watch_interval_s, on_opened=supervisors_texted(runtime)).start()
    try:
        yield watch
    finally:
        watch.stop()


def supervisors_texted(runtime: Runtime):
    """When the escalation engine itself is what went silent, nothing would walk the new
    alarm's ladder: the process that noticed texts the supervisors at once, itself."""
    settings = runtime.settings

    def on_opened(component: str, alarm_id: int) -> None:
        if component != beats.ESCALATION or not settings.alerts.supervisor_numbers:
            return
        messenger = Messenger(settings, runtime.sessions, TwilioTelephony(settings),
                              runtime.clock)
        # Italian, as the supervisors' texts of the ladders are.
        body = (f"Teleassistenza: il motore di escalation non dà segni di vita da oltre "
                f"{settings.service.stale_after_s} s (allarme {alarm_id}). Gli allarmi non "
                "vengono inoltrati ai contatti: intervenire subito.")
        for number in settings.alerts.supervisor_numbers:
            try:
                messenger.send(number, body, purpose="escalation")
            except TelephonyError as exc:
                log.error("self-watch: could not text the supervisor at %s: %s", number,
                          exc.message, extra={"alarm": alarm_id})

    return on_opened
