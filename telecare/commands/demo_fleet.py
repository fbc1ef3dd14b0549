"""The demo's pendants: one for each enrollee, and a simulated fleet beating for them.

The fleet runs on a thread of the demo's own process and talks MQTT to the embedded broker,
as the `telecare simulate devices` command does from another terminal. Its first minutes are
scripted so a visitor sees something happen at once (an alarm within half a minute, a
pendant that goes offline for good, another alarm, a fall); after that, chance: an alarm
about every minute and a half across the city, now and then a fall, a battery running low,
a spontaneous test.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import func, select, update

from devices.connection import BrokerAddress
from devices.simulator import Behaviour, Fleet, ensure_devices
from telecare.models import Device, DeviceState, Enrollee, EnrolleePhone
from telecare.runtime import Runtime

log = logging.getLogger(__name__)

PREFIX = "SIM-"
PERIOD_S = 60
# 300 pendants beating once a minute: 5 heartbeats a second; the chances are per heartbeat.
BEHAVIOUR = Behaviour(
    period_s=PERIOD_S, jitter_s=2.0,
    press=1 / 450,  # an alarm about every 90 s across the fleet
    fall=1 / 4000,
    test=1 / 3000,  # someone trying their pendant out of the blue
    battery_drain=1 / 10,  # about one percent every 10 minutes...
    nearly_flat=0.02,  # ...and a few pendants switched on just above the low-battery mark
)
# The opening, seconds after the fleet starts: (what, when). Devices are drawn at random.
# Two early presses: whoever opens the queue late still sees one arrive within the minute.
OPENING = (("alarm", 20.0), ("lose", 45.0), ("alarm", 60.0), ("fall", 100.0))
REPORT_EVERY_S = 300.0


class Pendants:
    """The running fleet, as the demo's people reach it: by their phone number."""

    def __init__(self, fleet: Fleet, serial_by_number: dict[str, str]):
        self.fleet, self.serial_by_number = fleet, serial_by_number

    def press_test(self, number: str, after_s: float) -> bool:
        """The person at `number` presses their pendant because a call asked them to."""
        serial = self.serial_by_number.get(number)
        return serial is not None and self.fleet.press(serial, "test", after_s)


def provision(runtime: Runtime) -> list[str]:
    """A pendant for every enrollee who has none (active, given to them): the serials."""
    with runtime.sessions() as session:
        enrollees = session.scalar(select(func.count()).select_from(Enrollee))
    return ensure_devices(runtime.sessions, max(enrollees, 1), PERIOD_S, prefix=PREFIX,
                          now=runtime.clock.now())


def serials_by_number(runtime: Runtime, serials: list[str]) -> dict[str, str]:
    """Each enrollee phone number with a simulated pendant: the pendant's serial."""
    known = set(serials)
    with runtime.sessions() as session:
        rows = session.execute(
            select(EnrolleePhone.number, Device.serial)
            .join(Device, Device.enrollee_id == EnrolleePhone.enrollee_id)
            .where(Device.state == DeviceState.ACTIVE, Device.serial.startswith(PREFIX)))
        return {number: serial for number, serial in rows if serial in known}


def give_time_to_be_heard(runtime: Runtime) -> None:
    """The fleet was off while the demo was: its pendants get one period to beat again
    before the watchdog calls them missing (else a restart opens an alarm for each)."""
    now = runtime.clock.now()
    due = now + timedelta(seconds=PERIOD_S + runtime.settings.devices.grace_s)
    with runtime.sessions() as session:
        session.execute(update(Device).where(
            Device.serial.startswith(PREFIX), Device.offline_since.is_(None),
            Device.offline_after.is_not(None), Device.offline_after < due)
            .values(offline_after=due))
        session.commit()


@contextmanager
def fleet_running(runtime: Runtime, address: BrokerAddress) -> Iterator[Pendants]:
    """The simulated fleet on its own thread for as long as the block runs."""
    serials = provision(runtime)
    give_time_to_be_heard(runtime)
    fleet = Fleet(address, serials, connections=2, behaviour=BEHAVIOUR,
                  seed=time.time_ns())
    chance = random.Random()
    for what, after_s in OPENING:
        serial = chance.choice(serials)
        if what == "lose":
            fleet.lose(serial, after_s)
        else:
            fleet.press(serial, what, after_s)
    thread = threading.Thread(target=fleet.run, kwargs={"report_every_s": REPORT_EVERY_S},
                              name="demo-fleet", daemon=True)
    thread.start()
    try:
        yield Pendants(fleet, serials_by_number(runtime, serials))
    finally:
        fleet.stop()
        thread.join(timeout=10)
        fleet.close()
        log.info("demo fleet: %d heartbeats, events %s, lost %s", fleet.stats.heartbeats,
                 fleet.stats.events, sorted(fleet.stats.lost))
