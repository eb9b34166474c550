"""How long each kind of ticket may take, when it is near its due time, and when a 回访 is due.

The values live in a YAML file (`settings.time_limits_file`, default `casework/time_limits.yaml`) so an operator
changes them without touching code; they are validated on loading, and every ticket category must have one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from casework.calendar import WorkingCalendar
from casework.enums import TicketCategory


class LimitUnit(StrEnum):
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True)
class TimeLimit:
    amount: int
    unit: LimitUnit
    promise: str  # what happens within the limit, as told to the resident

    @property
    def text(self) -> str:
        unit = "个工作小时" if self.unit is LimitUnit.WORKING_HOURS else "个工作日"
        return f"{self.amount}{unit}内{self.promise}"

    def due_at(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        if self.unit is LimitUnit.WORKING_HOURS:
            return calendar.add_working_hours(start, self.amount)
        return calendar.add_working_days(start, self.amount)

    def working_duration(self, calendar: WorkingCalendar) -> timedelta:
        """The limit as working time (a working day is one day of office hours), for near-due shares."""
        if self.unit is LimitUnit.WORKING_HOURS:
            return timedelta(hours=self.amount)
        return self.amount * calendar.working_day_length


@dataclass(frozen=True)
class TimeLimitRules:
    by_category: dict[TicketCategory, TimeLimit]
    near_due_share: float
    callback_working_days: int

    def __getitem__(self, category: TicketCategory) -> TimeLimit:
        return self.by_category[category]


class TimeLimitFileError(ValueError):
    """The time-limit file cannot be used; the message names the file and the problem."""


class _Limit(BaseModel):
    amount: int = Field(gt=0)
    unit: LimitUnit
    promise: str = Field(min_length=1)


class _LimitFile(BaseModel):
    categories: dict[TicketCategory, _Limit]
    near_due_share: float = Field(gt=0, lt=1)
    callback_working_days: int = Field(gt=0)

    @model_validator(mode="after")
    def _every_category(self) -> _LimitFile:
        missing = [c.value for c in TicketCategory if c not in self.categories]
        if missing:
            raise ValueError(f"缺少工单类别的办理时限：{'、'.join(missing)}")
        return self


def load_time_limits(path: Path) -> TimeLimitRules:
    try:
        parsed = _LimitFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise TimeLimitFileError(f"办理时限文件 {path} 无法使用：{error}") from error
    return TimeLimitRules(
        by_category={c: TimeLimit(x.amount, x.unit, x.promise) for c, x in parsed.categories.items()},
        near_due_share=parsed.near_due_share,
        callback_working_days=parsed.callback_working_days,
    )


def default_time_limits() -> TimeLimitRules:
    """The rules of `settings.time_limits_file`, read once per process."""
    from hotline.settings import get_settings

    return _cached_time_limits(get_settings().time_limits_file)


@lru_cache(maxsize=4)
def _cached_time_limits(path: Path) -> TimeLimitRules:
    return load_time_limits(path)
