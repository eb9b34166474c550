"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, TypeDecorator

# China has one time zone and no daylight saving, so a fixed offset is exact and needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def utc_now() -> datetime:
    return datetime.now(UTC)


def china_today() -> date:
    """Today in China: what "this year" and "overdue" mean to a resident, whatever the server's time zone."""
    return utc_now().astimezone(CHINA_TZ).date()


class UtcDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite keeps no offset), always returned as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                "naive datetime: pass an aware datetime (utc_now() or .replace(tzinfo=CHINA_TZ))"
            )
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def chinese_enum(enum_class: type[StrEnum], name: str) -> Enum:
    """Persist the Chinese value (not the Python name) as a checked VARCHAR, so rows read well in SQL."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
