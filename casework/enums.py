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
    """The resident's evaluation (评价) of how a ticket was handled, in the 12345/12393 wording."""

    SATISFIED = "满意"
    BASICALLY_SATISFIED = "基本满意"
    DISSATISFIED = "不满意"  # opens a 回访 task


class TicketEventKind(StrEnum):
    """What a line of a ticket's history records; status changes are 流转, the rest keep the status."""

    STATUS = "流转"
    CLAIM = "认领"
    REASSIGN = "改派"
    RETURN = "退回"
    MERGE = "合并"
    RATING = "评价"
    CALLBACK = "回访"
    SUPERVISION = "督办"


class MessageKind(StrEnum):
    """What the gateway delivers to the resident's chat for a ticket."""

    REPLY = "答复"  # an agent's reply
    RATING_INVITATION = "评价邀请"  # sent when the ticket is answered
    CALLBACK_FEEDBACK = "回访反馈"  # what the 回访 found and what was done


class AgentRole(StrEnum):
    AGENT = "坐席"
    SUPERVISOR = "主管"  # sees everything, reassigns, supervision views


class SupervisionKind(StrEnum):
    OVERDUE = "超时未答复"
    CALLBACK_OVERDUE = "回访超时"


class SuggestionVerdict(StrEnum):
    USEFUL = "有用"
    WRONG = "错误"


class TurnOutcome(StrEnum):
    """How the assistant dealt with one resident message (for the supervisors' analytics)."""

    ANSWERED = "已回答"  # a cited answer, confident
    LOW_CONFIDENCE = "低置信回答"  # a cited answer the answer-quality bands mark as unsure
    ABSTAINED = "未找到答案"  # the documents did not hold the answer
    TICKET = "转工单"
    OTHER = "其他"  # greetings, lookups, forms …


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


class QueuedMessageStatus(StrEnum):
    """Where a message the bot could not take stands (casework.journal)."""

    QUEUED = "待重放"  # waiting for the bot to answer again
    ANSWERED = "待送达"  # replayed; the answer waits for the resident (the web page's next poll)
    DELIVERED = "已送达"
    UNDELIVERABLE = "无法送达"  # the answer could not reach the resident: staff follow up
