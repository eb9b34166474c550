"""The closed vocabularies stored in the database. Values are the Chinese terms residents and agents see."""

from __future__ import annotations

from enum import StrEnum


class Scheme(StrEnum):
    EMPLOYEE = "职工"  # 职工基本医疗保险: has a personal account
    RESIDENT = "居民"  # 城乡居民基本医疗保险: no personal account


class EnrolmentState(StrEnum):
    ACTIVE = "参保缴费"
    SUSPENDED = "暂停参保"
    TERMINATED = "终止参保"


class ContributionState(StrEnum):
    PAID = "已缴费"
    UNPAID = "未缴费"  # not yet due or due and still open
    ARREARS = "欠缴"  # past due date and unpaid


class ClaimState(StrEnum):
    ACCEPTED = "已受理"
    REVIEWING = "审核中"
    SETTLED = "已结算"
    RETURNED = "已退回"


class OffsiteFilingType(StrEnum):
    LONG_TERM_RESIDENCE = "异地长期居住"
    WORKING_AWAY = "常驻异地工作"
    REFERRAL = "异地转诊"
    TEMPORARY = "临时外出就医"


class OffsiteFilingState(StrEnum):
    EFFECTIVE = "已备案"
    REVIEWING = "审核中"
    EXPIRED = "已过期"
    CANCELLED = "已取消"


class TicketCategory(StrEnum):
    HUMAN_AGENT = "转人工咨询"
    COMPLAINT = "投诉"
    FRAUD_REPORT = "举报欺诈骗保"
    VERIFICATION_FAILED = "身份核验失败"
    UNANSWERED = "无法回答"


class TicketStatus(StrEnum):
    """The 12393/12345 work-order lifecycle, in its usual order."""

    RECEIVED = "受理"
    DISPATCHED = "派单"
    HANDLING = "办理"
    ANSWERED = "答复"
    SUPERVISED = "督办"
    CLOSED = "办结"
    FOLLOWED_UP = "回访"
    RATED = "评价"


class Rating(StrEnum):
    GOOD = "好"
    FAIR = "中"
    POOR = "差"


class LookupKind(StrEnum):
    VERIFY_IDENTITY = "身份核验"
    ENROLMENT = "参保状态"
    CONTRIBUTIONS = "缴费记录"
    ACCOUNT_BALANCE = "个人账户"
    REIMBURSEMENTS = "报销进度"
    OFFSITE_FILINGS = "异地就医备案"
    EVOUCHER = "医保电子凭证"


class LookupOutcome(StrEnum):
    FOUND = "有记录"
    NO_RECORD = "无记录"
    VERIFIED = "核验通过"
    REJECTED = "核验未通过"
