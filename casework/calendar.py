"""Working time: office hours on working days, with China's public holidays and make-up working days (调休).

`WorkingCalendar` answers "when is N working hours / days after this moment" (due times) and "how much working
time lies between two moments" (countdowns, near-due). The holiday list comes from a YAML file
(`settings.working_calendar_file`, default `casework/working_calendar.yaml`), because it changes every year.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from casework.column_types import CHINA_TZ


@dataclass(frozen=True)
class WorkingCalendar:
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()  # 调休: weekend days worked
    covered_years: frozenset[int] = frozenset()  # years whose holiday arrangement is known

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    @property
    def working_day_length(self) -> timedelta:
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(CHINA_TZ)
        while True:
            if not self.is_working_day(cursor.date()) or cursor.time() >= self.closes:
                cursor = self._opening(self._next_working_day(cursor.date()))
                continue
            cursor = max(cursor, self._opening(cursor.date()))
            available = self._closing(cursor.date()) - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            cursor = self._opening(self._next_working_day(cursor.date()))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Closing time of the `days`-th working day after the day of `start` (which does not count)."""
        day = start.astimezone(CHINA_TZ).date()
        for _ in range(days):
            day = self._next_working_day(day)
        return self._closing(day)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time on working days from `start` to `end`; negative when `end` is earlier."""
        if end < start:
            return -self.working_time_between(end, start)
        total = timedelta()
        for day in _days(start.astimezone(CHINA_TZ).date(), end.astimezone(CHINA_TZ).date()):
            if self.is_working_day(day):
                overlap = min(end, self._closing(day)) - max(start, self._opening(day))
                total += max(overlap, timedelta())
        return total

    def missing_years(self, *years: int) -> list[int]:
        """The given years whose holidays this calendar does not know (they would count weekends only)."""
        return [year for year in years if year not in self.covered_years]

    def _next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def _opening(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, CHINA_TZ)

    def _closing(self, day: date) -> datetime:
        return datetime.combine(day, self.closes, CHINA_TZ)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- the YAML file ---------------------------------------------------------------------------


class CalendarFileError(ValueError):
    """The calendar file cannot be used; the message names the file and the problem."""


class _Holiday(BaseModel):
    name: str
    first: date = Field(alias="from")
    last: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> _Holiday:
        if self.last < self.first:
            raise ValueError(f"{self.name}: 结束日期 {self.last} 早于开始日期 {self.first}")
        return self


class _MakeUpDay(BaseModel):
    name: str
    day: date

    @model_validator(mode="after")
    def _on_a_weekend(self) -> _MakeUpDay:
        if self.day.weekday() < 5:
            raise ValueError(f"{self.name}: {self.day} 不是周末，无需列为调休上班日")
        return self


class _Year(BaseModel):
    holidays: list[_Holiday] = []
    make_up_workdays: list[_MakeUpDay] = []


class _OfficeHours(BaseModel):
    opens: time
    closes: time


class _CalendarFile(BaseModel):
    office_hours: _OfficeHours
    years: dict[int, _Year] = {}

    @model_validator(mode="after")
    def _days_in_their_year(self) -> _CalendarFile:
        if self.office_hours.closes <= self.office_hours.opens:
            raise ValueError("office_hours: closes 必须晚于 opens")
        for year, listing in self.years.items():
            days = [h.first for h in listing.holidays] + [m.day for m in listing.make_up_workdays]
            stray = [d for d in days if d.year != year]
            if stray:
                raise ValueError(f"{year} 年下列出了其他年份的日期：{stray}")
        return self


def load_calendar(path: Path) -> WorkingCalendar:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _CalendarFile.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise CalendarFileError(f"工作日历文件 {path} 无法使用：{error}") from error
    holidays = {
        day for listing in parsed.years.values() for h in listing.holidays for day in _days(h.first, h.last)
    }
    workdays = {m.day for listing in parsed.years.values() for m in listing.make_up_workdays}
    return WorkingCalendar(
        opens=parsed.office_hours.opens,
        closes=parsed.office_hours.closes,
        holidays=frozenset(holidays),
        extra_workdays=frozenset(workdays),
        covered_years=frozenset(parsed.years),
    )


def default_calendar() -> WorkingCalendar:
    """The calendar of `settings.working_calendar_file`, read once per process."""
    from hotline.settings import get_settings

    return _cached_calendar(get_settings().working_calendar_file)


@lru_cache(maxsize=4)
def _cached_calendar(path: Path) -> WorkingCalendar:
    return load_calendar(path)
