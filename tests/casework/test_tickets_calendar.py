"""Working time: weekends, China's public holidays and make-up working days (调休), year ends, the YAML files."""

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from casework.calendar import CalendarFileError, WorkingCalendar, default_calendar, load_calendar
from casework.column_types import CHINA_TZ
from casework.enums import TicketCategory
from casework.time_limits import LimitUnit, TimeLimitFileError, default_time_limits, load_time_limits
from hotline.settings import PROJECT_ROOT


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


@pytest.fixture(scope="module")
def shipped() -> WorkingCalendar:
    return load_calendar(PROJECT_ROOT / "casework" / "working_calendar.yaml")


def test_the_shipped_calendar_holds_the_official_2026_arrangement(shipped: WorkingCalendar) -> None:
    holidays_2026 = sorted(d for d in shipped.holidays if d.year == 2026)
    assert len(holidays_2026) == 33  # 3 + 9 + 3 + 5 + 3 + 3 + 7 days off
    assert {date(2026, 2, 15), date(2026, 2, 23), date(2026, 10, 7)} <= set(holidays_2026)
    assert sorted(shipped.extra_workdays) == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert shipped.covered_years == {2026} and shipped.missing_years(2026, 2027) == [2027]


def test_weekends_are_skipped() -> None:
    calendar = WorkingCalendar()
    friday_4pm = china(2026, 11, 27, 16, 0)
    assert calendar.add_working_hours(friday_4pm, 2) == china(2026, 11, 30, 10, 0)
    assert calendar.add_working_days(friday_4pm, 1) == china(2026, 11, 30, 17, 0)
    saturday = china(2026, 11, 28, 11, 0)
    assert calendar.add_working_hours(saturday, 1) == china(2026, 11, 30, 10, 0)


def test_a_holiday_is_skipped_and_a_make_up_saturday_counts(shipped: WorkingCalendar) -> None:
    before_national_day = china(2026, 9, 30, 16, 30)
    # 1–7 October off; Thursday 8 October is the next working day.
    assert shipped.add_working_hours(before_national_day, 1) == china(2026, 10, 8, 9, 30)
    assert shipped.add_working_days(before_national_day, 2) == china(2026, 10, 9, 17, 0)
    # Saturday 10 October is a make-up working day (调休上班).
    assert shipped.add_working_days(before_national_day, 3) == china(2026, 10, 10, 17, 0)
    assert shipped.is_working_day(date(2026, 9, 20)) and not shipped.is_working_day(date(2026, 9, 19))


def test_spring_festival_starts_after_a_make_up_saturday(shipped: WorkingCalendar) -> None:
    friday_before = china(2026, 2, 13, 16, 0)
    assert shipped.add_working_hours(friday_before, 2) == china(2026, 2, 14, 10, 0)  # Saturday, worked
    assert shipped.add_working_hours(friday_before, 10) == china(2026, 2, 24, 10, 0)  # after nine days off


def test_a_limit_running_over_the_year_end_uses_the_next_years_holidays(tmp_path: Path) -> None:
    # Test data, not the official 2027 arrangement (not yet published): a three-day New Year off.
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "office_hours: {opens: '09:00', closes: '17:00'}\n"
        "years:\n"
        "  2027:\n"
        "    holidays: [{name: 元旦, from: 2027-01-01, to: 2027-01-03}]\n",
        encoding="utf-8",
    )
    calendar = load_calendar(path)
    new_years_eve = china(2026, 12, 31, 16, 0)
    assert calendar.add_working_hours(new_years_eve, 2) == china(2027, 1, 4, 10, 0)
    assert calendar.add_working_days(new_years_eve, 1) == china(2027, 1, 4, 17, 0)
    # Without 2027 in the file, Friday 1 January would count as an ordinary working day.
    assert WorkingCalendar().add_working_days(new_years_eve, 1) == china(2027, 1, 1, 17, 0)


def test_working_time_between_counts_office_hours_only(shipped: WorkingCalendar) -> None:
    friday_4pm, monday_10am = china(2026, 11, 27, 16, 0), china(2026, 11, 30, 10, 0)
    assert shipped.working_time_between(friday_4pm, monday_10am) == timedelta(hours=2)
    assert shipped.working_time_between(monday_10am, friday_4pm) == timedelta(hours=-2)
    assert shipped.working_time_between(china(2026, 9, 30, 12, 0), china(2026, 10, 8, 12, 0)) == timedelta(
        hours=8
    )


OFFICE_HOURS = "office_hours: {opens: '09:00', closes: '17:00'}\nyears:\n  2026:\n"


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        ("office_hours: {opens: '17:00', closes: '09:00'}\n", "closes 必须晚于 opens"),
        (OFFICE_HOURS + "    make_up_workdays: [{name: 错, day: 2026-10-09}]\n", "不是周末"),
        (OFFICE_HOURS + "    holidays: [{name: 元旦, from: 2027-01-01, to: 2027-01-03}]\n", "其他年份"),
        (OFFICE_HOURS + "    holidays: [{name: 倒了, from: 2026-10-07, to: 2026-10-01}]\n", "早于开始日期"),
    ],
)
def test_a_wrong_calendar_file_is_refused_with_the_reason(
    tmp_path: Path, yaml_text: str, problem: str
) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(CalendarFileError, match=problem):
        load_calendar(path)


def test_the_default_calendar_and_limits_come_from_the_files_named_in_settings() -> None:
    assert default_calendar().covered_years == {2026}
    limits = default_time_limits()
    assert set(limits.by_category) == set(TicketCategory)
    assert (
        limits[TicketCategory.COMPLAINT].unit is LimitUnit.WORKING_DAYS and limits.callback_working_days == 10
    )


def test_a_time_limit_file_missing_a_category_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(
        "categories:\n  投诉: {amount: 5, unit: working_days, promise: 答复您}\n"
        "near_due_share: 0.25\ncallback_working_days: 10\n",
        encoding="utf-8",
    )
    with pytest.raises(TimeLimitFileError, match="缺少工单类别的办理时限"):
        load_time_limits(path)
