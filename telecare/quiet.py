"""Quiet hours: nobody is phoned at night unless someone may be in danger."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(now: datetime, zone: ZoneInfo, start: str, end: str) -> datetime | None:
    """When the quiet hours around `now` end (UTC), or None if it is not quiet now.

    Computed on the local wall clock, so 09:00 stays 09:00 across a clock change.
    """
    local = now.astimezone(zone)
    quiet_from, quiet_to = clock_time(start), clock_time(end)
    wall = local.time()
    crosses_midnight = quiet_from > quiet_to
    if crosses_midnight:
        quiet = wall >= quiet_from or wall < quiet_to
    else:
        quiet = quiet_from <= wall < quiet_to
    if not quiet:
        return None
    day = local.date() if wall < quiet_to else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet_to, tzinfo=zone).astimezone(now.tzinfo)


def clock_time(text: str) -> time:
    """"20:00" as a time of day (the settings check the format when they are read)."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
