"""When a planned call rings: a local slot made a UTC time, across clock changes and holidays.

Plain functions of data and `now`. A slot is a weekday and a local time; the service's zone
(Europe/Rome by default) turns it into UTC on the day itself, so 10:00 stays 10:00 on the
Sundays the clocks change. A day that is a public holiday (the `holidays` library's, for the
configured country and subdivision) is kept or moved as the configured rule says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays as holiday_tables

from telecare.quiet import clock_time
from telecare.settings import CallsSettings, Settings

# A run of holidays longer than this (there is none in any calendar we know) is not skipped.
MAX_MOVE_DAYS = 7


@dataclass(frozen=True)
class CallCalendar:
    zone: ZoneInfo
    day_start: time
    day_end: time
    holiday_rule: str = "next_day"
    country: str = "IT"
    subdivision: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> CallCalendar:
        calls: CallsSettings = settings.calls
        return cls(settings.zone, clock_time(calls.day_start), clock_time(calls.day_end),
                   calls.holiday_rule, calls.holiday_country, calls.holiday_subdivision)

    @cached_property
    def _holidays(self) -> holiday_tables.HolidayBase:
        # Years are filled in as they are asked about (the library's own expansion).
        return holiday_tables.country_holidays(self.country, subdiv=self.subdivision or None)

    def holiday(self, day: date) -> str | None:
        """The holiday's name, or None on an ordinary day."""
        return self._holidays.get(day)

    def moved(self, day: date) -> date:
        """The day a call planned for `day` is made, by the holiday rule."""
        if self.holiday_rule == "keep":
            return day
        step = timedelta(days=-1 if self.holiday_rule == "previous_day" else 1)
        moved = day
        for _ in range(MAX_MOVE_DAYS):
            if self.holiday(moved) is None:
                return moved
            moved += step
        return day

    def at(self, day: date, wall: time) -> datetime:
        """`wall` o'clock local time on `day`, in UTC."""
        return datetime.combine(day, wall, tzinfo=self.zone).astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def slot(self, day: date, wall: time) -> datetime:
        """When a call planned for `wall` on `day` rings (UTC): holiday rule, then daytime."""
        return self.in_daytime(self.at(self.moved(day), wall))

    def in_daytime(self, moment: datetime) -> datetime:
        """`moment`, or the next start of the calling day if it falls at night."""
        local = self.local(moment)
        if local.time() < self.day_start:
            return self.at(local.date(), self.day_start)
        if local.time() >= self.day_end:
            return self.at(local.date() + timedelta(days=1), self.day_start)
        return moment

    def retry_at(self, now: datetime, attempts_made: int, retry_minutes: list[str]) -> datetime:
        """When the next attempt is due after `attempts_made` unanswered ones."""
        delay = int(retry_minutes[min(attempts_made, len(retry_minutes)) - 1])
        return self.in_daytime(now + timedelta(minutes=delay))


def days_with_weekday(weekday: int, first: date, days: int) -> list[date]:
    """The days in [first, first + days) falling on `weekday` (0 Monday)."""
    offset = (weekday - first.weekday()) % 7
    return [first + timedelta(days=n) for n in range(offset, days, 7)]
