"""When consultants work: parse "Mon-Fri 09:00-17:00; Sat 10:00-13:00" and find the next opening.

Standard library only (zoneinfo), so the config loader can validate the setting without importing the core.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class OfficeHoursError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    weekday: int  # Monday = 0
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class OfficeHours:
    windows: tuple[Window, ...]
    zone: ZoneInfo

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone)
        return any(w.weekday == local.weekday() and w.start <= local.time() < w.end for w in self.windows)

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The moment itself when open, else the start of the next window, in the office's time zone."""
        local = moment.astimezone(self.zone)
        if self.is_open(moment):
            return local
        for days_ahead in range(8):
            day = local.date() + dt.timedelta(days=days_ahead)
            starts = sorted(w.start for w in self.windows if w.weekday == day.weekday())
            for start in starts:
                candidate = dt.datetime.combine(day, start, tzinfo=self.zone)
                if candidate > local:
                    return candidate
        raise OfficeHoursError("office hours have no window")


def parse_office_hours(text: str, zone: str) -> OfficeHours:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise OfficeHoursError(f"unknown time zone '{zone}'") from exc
    windows: list[Window] = []
    for part in filter(None, (p.strip() for p in re.split(r"[;,]", text.lower()))):
        match = _SPAN.match(part)
        if not match:
            raise OfficeHoursError(f"'{part}' is not like 'Mon-Fri 09:00-17:00'")
        first, last, h1, m1, h2, m2 = match.groups()
        if first not in DAYS or (last or first) not in DAYS:
            raise OfficeHoursError(f"'{part}': days are Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        try:
            start, end = dt.time(int(h1), int(m1)), dt.time(int(h2), int(m2))
        except ValueError as exc:
            raise OfficeHoursError(f"'{part}': {exc}") from exc
        if end <= start:
            raise OfficeHoursError(f"'{part}': the end must be after the start")
        a, b = DAYS.index(first), DAYS.index(last or first)
        for day in range(a, (b if b >= a else b + 7) + 1):
            windows.append(Window(day % 7, start, end))
    if not windows:
        raise OfficeHoursError("no opening hours given")
    return OfficeHours(tuple(windows), tz)
