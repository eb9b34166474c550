"""Clearly fictitious demo residents for trying the assistant and for tests.

Every name carries 演示 (demo), every phone is 1380000000x, and ID numbers are made up (they pass the
GB 11643 check so the dialogue can be exercised, but belong to no one). Records are dated relative to the
day of seeding so "this year" and "recent" stay true. Seeding is idempotent: residents already present
(by ID number) are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import china_today
from casework.enums import (
    ClaimState,
    ContributionState,
    EnrolmentState,
    OffsiteFilingState,
    OffsiteFilingType,
    Scheme,
)
from casework.id_numbers import check_digit
from casework.models import (
    AccountEntry,
    Claim,
    Contribution,
    Enrolment,
    OffsiteFiling,
    Resident,
)


@dataclass(frozen=True)
class DemoResident:
    key: str  # stable handle for tests: "employee", "resident_paid", …
    name: str
    id_number: str
    phone: str
    region: str | None
    scheme: Scheme | None
    description: str


def _id_number(region_code: str, born: str, sequence: str) -> str:
    first17 = region_code + born + sequence
    return first17 + check_digit(first17)


DEMO_RESIDENTS: tuple[DemoResident, ...] = (
    DemoResident(
        "employee",
        "张演示",
        _id_number("360102", "19850312", "901"),
        "13800000001",
        "江西省南昌市",
        Scheme.EMPLOYEE,
        "职工医保，个人账户有余额，4笔报销（已结算/审核中/已退回/已受理）",
    ),
    DemoResident(
        "resident_paid",
        "李演示",
        _id_number("441702", "19920708", "902"),
        "13800000002",
        "广东省阳江市",
        Scheme.RESIDENT,
        "居民医保，今年已缴费，1笔已结算报销",
    ),
    DemoResident(
        "lapsed",
        "王演示",
        _id_number("530102", "19780125", "903"),
        "13800000003",
        "云南省昆明市",
        Scheme.RESIDENT,
        "居民医保已终止参保，今年欠缴，电子凭证未激活",
    ),
    DemoResident(
        "no_claims",
        "赵演示",
        _id_number("320102", "19900930", "904"),
        "13800000004",
        "江苏省南京市",
        Scheme.EMPLOYEE,
        "职工医保，正常缴费，没有报销记录",
    ),
    DemoResident(
        "offsite",
        "陈演示",
        _id_number("411602", "19600518", "905"),
        "13800000005",
        "河南省周口市",
        Scheme.EMPLOYEE,
        "职工医保，异地长期居住备案（海南省三亚市），一条已过期备案",
    ),
    DemoResident(
        "partial",
        "刘演示",
        _id_number("360103", "19880214", "906"),
        "13800000006",
        None,
        Scheme.EMPLOYEE,
        "资料不全：有参保记录，但无缴费、账户和电子凭证信息，地区未登记",
    ),
    DemoResident(
        "never_enrolled",
        "孙演示",
        _id_number("441702", "20010811", "907"),
        "13800000007",
        "广东省阳江市",
        None,
        "从未参保：只有身份信息，没有任何医保记录",
    ),
)


@dataclass(frozen=True)
class SeedReport:
    created: tuple[str, ...]  # demo keys inserted now
    existing: tuple[str, ...]  # demo keys already present, left untouched


def seed_demo_data(session: Session, *, today: date | None = None) -> SeedReport:
    today = today or china_today()
    created: list[str] = []
    existing: list[str] = []
    for demo in DEMO_RESIDENTS:
        if session.scalars(select(Resident.id).where(Resident.id_number == demo.id_number)).first():
            existing.append(demo.key)
            continue
        resident = Resident(
            name=demo.name, id_number=demo.id_number, phone=demo.phone, region=demo.region, scheme=demo.scheme
        )
        _BUILDERS[demo.key](resident, today)
        session.add(resident)
        created.append(demo.key)
    session.flush()
    return SeedReport(tuple(created), tuple(existing))


def demo_resident(key: str) -> DemoResident:
    return next(d for d in DEMO_RESIDENTS if d.key == key)


# --- one builder per demo resident ----------------------------------------------------------


def _employee(r: Resident, today: date) -> None:
    r.evoucher_activated, r.evoucher_activated_on = True, date(today.year - 2, 5, 10)
    r.enrolments.append(
        Enrolment(
            scheme=Scheme.EMPLOYEE,
            region="江西省南昌市",
            status=EnrolmentState.ACTIVE,
            start_date=date(2010, 7, 1),
            employer="南昌演示科技有限公司",
        )
    )
    _monthly_contributions(r, today, amount_fen=12_000)
    _ledger(
        r,
        today,
        opening_fen=231_560,
        monthly_credit_fen=16_850,
        spending=[("定点药店购药", 4_380), ("门诊个人自付", 12_600)],
    )
    r.claims.extend(
        [
            Claim(
                claim_number="BX-DEMO-0001",
                hospital="南昌市演示人民医院",
                treatment_start=today - timedelta(days=120),
                treatment_end=today - timedelta(days=112),
                submitted_on=today - timedelta(days=100),
                total_fen=1_286_000,
                reimbursed_fen=902_400,
                status=ClaimState.SETTLED,
                settled_on=today - timedelta(days=80),
            ),
            Claim(
                claim_number="BX-DEMO-0002",
                hospital="南昌市演示中医院",
                treatment_start=today - timedelta(days=60),
                treatment_end=today - timedelta(days=55),
                submitted_on=today - timedelta(days=40),
                total_fen=456_000,
                reimbursed_fen=None,
                status=ClaimState.RETURNED,
                status_reason="缺少出院小结和费用明细清单，请补齐材料后重新提交",
            ),
            Claim(
                claim_number="BX-DEMO-0003",
                hospital="南昌市演示第二医院",
                treatment_start=today - timedelta(days=30),
                treatment_end=today - timedelta(days=26),
                submitted_on=today - timedelta(days=20),
                total_fen=823_500,
                reimbursed_fen=None,
                status=ClaimState.REVIEWING,
            ),
            Claim(
                claim_number="BX-DEMO-0004",
                hospital="南昌市演示妇幼保健院",
                treatment_start=today - timedelta(days=8),
                treatment_end=None,
                submitted_on=today - timedelta(days=2),
                total_fen=98_000,
                reimbursed_fen=None,
                status=ClaimState.ACCEPTED,
            ),
        ]
    )


def _resident_paid(r: Resident, today: date) -> None:
    r.evoucher_activated, r.evoucher_activated_on = True, date(today.year - 1, 9, 1)
    r.enrolments.append(
        Enrolment(
            scheme=Scheme.RESIDENT,
            region="广东省阳江市",
            status=EnrolmentState.ACTIVE,
            start_date=date(2015, 1, 1),
        )
    )
    for year, amount_fen in ((today.year - 1, 38_000), (today.year, 40_000)):
        r.contributions.append(
            Contribution(
                year=year,
                month=None,
                amount_fen=amount_fen,
                status=ContributionState.PAID,
                due_date=date(year - 1, 12, 31),
                paid_date=date(year - 1, 11, 20),
            )
        )
    r.claims.append(
        Claim(
            claim_number="BX-DEMO-0101",
            hospital="阳江市演示人民医院",
            treatment_start=today - timedelta(days=90),
            treatment_end=today - timedelta(days=85),
            submitted_on=today - timedelta(days=70),
            total_fen=562_000,
            reimbursed_fen=337_200,
            status=ClaimState.SETTLED,
            settled_on=today - timedelta(days=50),
        )
    )


def _lapsed(r: Resident, today: date) -> None:
    r.evoucher_activated = False
    r.enrolments.append(
        Enrolment(
            scheme=Scheme.RESIDENT,
            region="云南省昆明市",
            status=EnrolmentState.TERMINATED,
            start_date=date(2018, 1, 1),
            end_date=date(today.year - 1, 12, 31),
        )
    )
    r.contributions.append(
        Contribution(
            year=today.year - 1,
            month=None,
            amount_fen=38_000,
            status=ContributionState.PAID,
            due_date=date(today.year - 2, 12, 31),
            paid_date=date(today.year - 2, 12, 5),
        )
    )
    r.contributions.append(
        Contribution(
            year=today.year,
            month=None,
            amount_fen=40_000,
            status=ContributionState.ARREARS,
            due_date=date(today.year - 1, 12, 31),
        )
    )


def _no_claims(r: Resident, today: date) -> None:
    r.evoucher_activated, r.evoucher_activated_on = True, date(today.year - 3, 3, 3)
    r.enrolments.append(
        Enrolment(
            scheme=Scheme.EMPLOYEE,
            region="江苏省南京市",
            status=EnrolmentState.ACTIVE,
            start_date=date(2014, 9, 1),
            employer="南京演示贸易有限公司",
        )
    )
    _monthly_contributions(r, today, amount_fen=15_600, current_month_paid=True)
    _ledger(r, today, opening_fen=520_000, monthly_credit_fen=21_900, spending=[("定点药店购药", 2_650)])


def _offsite(r: Resident, today: date) -> None:
    r.evoucher_activated, r.evoucher_activated_on = True, date(today.year - 1, 2, 14)
    r.enrolments.append(
        Enrolment(
            scheme=Scheme.EMPLOYEE,
            region="河南省周口市",
            status=EnrolmentState.ACTIVE,
            start_date=date(1995, 3, 1),
            employer="周口演示机械厂（退休）",
        )
    )
    _ledger(r, today, opening_fen=86_420, monthly_credit_fen=9_800, spending=[("异地门诊个人自付", 5_300)])
    r.offsite_filings.extend(
        [
            OffsiteFiling(
                destination="海南省三亚市",
                filing_type=OffsiteFilingType.LONG_TERM_RESIDENCE,
                valid_from=date(today.year - 1, 10, 1),
                valid_to=None,
                status=OffsiteFilingState.EFFECTIVE,
                filed_on=date(today.year - 1, 9, 20),
            ),
            OffsiteFiling(
                destination="北京市",
                filing_type=OffsiteFilingType.TEMPORARY,
                valid_from=date(today.year - 2, 3, 1),
                valid_to=date(today.year - 2, 8, 31),
                status=OffsiteFilingState.EXPIRED,
                filed_on=date(today.year - 2, 2, 25),
            ),
        ]
    )
    r.claims.append(
        Claim(
            claim_number="BX-DEMO-0501",
            hospital="三亚市演示中心医院",
            treatment_start=today - timedelta(days=45),
            treatment_end=today - timedelta(days=40),
            submitted_on=today - timedelta(days=40),
            total_fen=734_000,
            reimbursed_fen=550_500,
            status=ClaimState.SETTLED,
            settled_on=today - timedelta(days=40),
        )
    )


def _partial(r: Resident, today: date) -> None:
    # Deliberately thin: enrolment known, everything else missing (evoucher unknown rather than False).
    r.evoucher_activated = None
    r.enrolments.append(
        Enrolment(
            scheme=Scheme.EMPLOYEE,
            region="江西省南昌市",
            status=EnrolmentState.ACTIVE,
            start_date=date(today.year - 1, 4, 1),
        )
    )


def _never_enrolled(r: Resident, today: date) -> None:
    r.evoucher_activated = False


_BUILDERS = {
    "employee": _employee,
    "resident_paid": _resident_paid,
    "lapsed": _lapsed,
    "no_claims": _no_claims,
    "offsite": _offsite,
    "partial": _partial,
    "never_enrolled": _never_enrolled,
}


def _monthly_contributions(
    r: Resident, today: date, *, amount_fen: int, current_month_paid: bool = False
) -> None:
    """This year's 职工 months: earlier months paid on the 15th, the current month due on the 25th."""
    for month in range(1, today.month + 1):
        due = date(today.year, month, 25)
        paid = month < today.month or current_month_paid
        r.contributions.append(
            Contribution(
                year=today.year,
                month=month,
                amount_fen=amount_fen,
                status=ContributionState.PAID if paid else ContributionState.UNPAID,
                due_date=due,
                paid_date=date(today.year, month, min(15, today.day if month == today.month else 15))
                if paid
                else None,
            )
        )


def _ledger(
    r: Resident, today: date, *, opening_fen: int, monthly_credit_fen: int, spending: list[tuple[str, int]]
) -> None:
    """Six months of 划入 on the 5th and spending on the 18th, balances carried line by line."""
    balance = opening_fen
    for months_ago in range(5, -1, -1):
        year, month = today.year, today.month - months_ago
        while month < 1:
            year, month = year - 1, month + 12
        credit_day = date(year, month, 5)
        if credit_day <= today:
            balance += monthly_credit_fen
            r.account_entries.append(
                AccountEntry(
                    posted_on=credit_day,
                    description="单位缴费划入个人账户",
                    amount_fen=monthly_credit_fen,
                    balance_fen=balance,
                )
            )
        spend_day = date(year, month, 18)
        description, amount = spending[months_ago % len(spending)]
        if spend_day <= today:
            balance -= amount
            r.account_entries.append(
                AccountEntry(
                    posted_on=spend_day, description=description, amount_fen=-amount, balance_fen=balance
                )
            )
