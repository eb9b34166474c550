"""Turning search results into what a resident reads: the sentence that answers, its source, the whole passage.

Nothing here adds facts: every rule, number or phone number in a reply is inside a quotation taken verbatim
from an official document, and the surrounding words only say where it comes from. A reply is in one of three
bands (``knowledge_base.answerability``):

- ``confident``: the sentence(s) that carry the asked-for fact (``Passage.lead``) quoted first, with the source;
  the citation payload holds the whole passage (the web page expands it) and up to two further sources, the
  runners-up the model reads as possibly answering too (their own band confident or related);
- ``related``: "没有找到确切规定，以下条文可能相关" and the best one or two passages, plainly marked as possibly
  related, never as an answer, with 转人工;
- ``refused``: the documents do not cover it; 转人工.

The payload (``custom``: ``band``, ``citations``, ``abstain``) is what the gateway, the web page, WeChat and the
evaluation runner read. ``suggestions(result)`` gives agents the same reading: for each of the best passages, the
sentence that answers, the passage, its source and its confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from casework.accounts import (
    AccountBalance,
    ContributionSummary,
    EnrolmentStatus,
    EVoucherStatus,
    OffsiteFilingSummary,
    ReimbursementSummary,
)
from casework.enums import Scheme
from knowledge_base.types import Passage, SearchResult

# A quotation longer than this is cut to the sentences that overlap the question most.
MAX_QUOTE_CHARS = 220
FURTHER_QUOTE_CHARS = 80
MAX_FURTHER_SOURCES = 2
MAX_RELATED_PASSAGES = 2

_SENTENCE_END = re.compile(r"(?<=[。；！？!?;])")
_SECTION_SEPARATOR = " > "

HUMAN_BUTTONS: list[dict[str, str]] = [
    {"title": "转人工", "payload": "/request_human"},
    {"title": "不用了", "payload": "/deny"},
]

ABSTAIN_TEXT = (
    "抱歉，我手头的官方政策文件里没有找到能直接回答这个问题的规定。为了不给您不准确的信息，我就不猜测了。"
    "您可以换个说法再问我，或者转人工坐席为您解答。"
)
RELATED_INTRO = "抱歉，政策文件里没有找到对这个问题的确切规定。以下条文可能相关，仅供参考，不作为答复："
RELATED_OUTRO = "如需准确答复，您可以换个说法再问，或转人工坐席为您解答。"
# The classifier guessed "not a 医保 question" but the documents hold possibly related passages: say both.
OUT_OF_SCOPE_RELATED_INTRO = (
    "这个问题可能不在医保政策的范围内。如果您问的是医保方面的规定，政策文件里没有找到确切规定，"
    "以下条文可能相关，仅供参考，不作为答复："
)
# A first-person question that asks how a rule applies, before the identity check for the record itself.
RULE_ASIDE_INTRO = "如果您想了解的是一般规定，政策文件中是这样写的："
RULE_ASIDE_RELATED_INTRO = "如果您想了解的是一般规定，政策文件里没有找到确切规定，以下条文可能相关，仅供参考："
RULE_ASIDE_OUTRO = "如需查询您本人的记录，请按下面的提示核实身份。"


@dataclass(frozen=True)
class PolicyAnswer:
    text: str
    citations: list[dict[str, Any]]
    abstain: bool
    buttons: list[dict[str, str]] = field(default_factory=list)
    band: str = ""  # confident | related | refused

    @property
    def payload(self) -> dict[str, Any]:
        """The `custom` json_message sent alongside the text."""
        return {"band": self.band or ("refused" if self.abstain else "confident"), "citations": self.citations,
                "abstain": self.abstain}


def compose_policy_answer(result: SearchResult, *, maybe_out_of_scope: bool = False) -> PolicyAnswer:
    """The reply for one search, by its band: the answer quoted and cited, possibly related passages, or a refusal.

    ``maybe_out_of_scope``: the classifier took the question for one outside 医保, so related passages are
    introduced as such.
    """
    if result.band == "related" and result.passages:
        return _related_reply(result, OUT_OF_SCOPE_RELATED_INTRO if maybe_out_of_scope else RELATED_INTRO)
    if result.abstain or not result.passages:
        return PolicyAnswer(ABSTAIN_TEXT, [], True, list(HUMAN_BUTTONS), band="refused")

    best, *others = result.passages
    further = [p for p in others if _is_further_source(p, best)][:MAX_FURTHER_SOURCES]

    lines = [_lead(best), *_quoted_with_source(best, result.question)]
    if further:
        lines.append("相关规定还可参考：")
        lines.extend(
            f"· {source_line(p)}：“{answering_quote(p, result.question, FURTHER_QUOTE_CHARS)}”" for p in further
        )
    citations = [citation(p) for p in [best, *further]]
    return PolicyAnswer("\n".join(lines), citations, False, band="confident")


def compose_rule_aside(result: SearchResult) -> PolicyAnswer | None:
    """The rule for a resident who asked about their own case, said before their record is looked up: the answer
    with its source, or possibly related passages so marked; nothing when the documents hold nothing related."""
    if result.band == "confident" and result.passages:
        best = result.passages[0]
        lines = [RULE_ASIDE_INTRO, *_quoted_with_source(best, result.question), RULE_ASIDE_OUTRO]
        return PolicyAnswer("\n".join(lines), [citation(best)], False, band="confident")
    if result.band == "related" and result.passages:
        # The identity form follows at once: no 转人工 buttons in between.
        return _related_reply(result, RULE_ASIDE_RELATED_INTRO, outro=RULE_ASIDE_OUTRO, buttons=[])
    return None


def _quoted_with_source(passage: Passage, question: str) -> list[str]:
    return [f"“{answering_quote(passage, question)}”", f"（来源：{source_line(passage)}）"]


def _related_reply(result: SearchResult, intro: str, *, outro: str = RELATED_OUTRO,
                   buttons: list[dict[str, str]] = HUMAN_BUTTONS) -> PolicyAnswer:
    shown = result.passages[:MAX_RELATED_PASSAGES]
    lines = [intro]
    lines.extend(f"· 【可能相关】{source_line(p)}：“{answering_quote(p, result.question, FURTHER_QUOTE_CHARS * 2)}”"
                 for p in shown)
    lines.append(outro)
    return PolicyAnswer("\n".join(lines), [citation(p) for p in shown], True, list(buttons), band="related")


def answering_quote(passage: Passage, question: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """The sentence(s) of the passage that answer (``Passage.lead``), or its best-overlapping sentences."""
    return quote(passage.lead or passage.text, question, limit)


@dataclass(frozen=True)
class Suggestion:
    """One suggested answer for an agent: what to read out, where it stands, how sure the reading is."""

    sentence: str  # the sentence(s) that carry the asked-for fact
    passage: str  # the whole passage
    source: str  # 《title》 · section · region
    confidence: float  # the passage's own probability of answering the question, 0–1
    band: str  # the band this passage alone would fall in
    chunk_id: str


def suggestions(result: SearchResult, k: int = 3) -> list[Suggestion]:
    """The best ``k`` passages of a search as agent suggestions, best first, each in the band its own probability
    falls in (a passage without one: the first takes the result's band, the others are "related")."""
    out = []
    for position, p in enumerate(result.passages[:k]):
        band = p.band or (result.band if position == 0 else "related")
        out.append(Suggestion(answering_quote(p, result.question), p.text, source_line(p), round(float(p.score), 4),
                              band, p.chunk_id))
    return out


def citation(passage: Passage) -> dict[str, Any]:
    return {
        "chunk_id": passage.chunk_id,
        "doc_title": passage.doc_title,
        "section": passage.section,
        "region": passage.region,
        "text": passage.text,
        "lead": passage.lead,
        "score": round(float(passage.score), 4),
    }


def source_line(passage: Passage) -> str:
    """`《周口市“十四五”医疗保障规划》 · 第三章 … 一、… · 河南省周口市` (parts that are empty are left out)."""
    parts = [f"《{passage.doc_title.strip('《》')}》", display_section(passage.section), passage.region]
    return " · ".join(part for part in parts if part)


def display_section(section: str) -> str:
    return "，".join(part.strip() for part in section.split(_SECTION_SEPARATOR) if part.strip())


def quote(text: str, question: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """The passage, or the run of whole sentences within ``limit`` that shares the most with the question."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    wanted = _bigrams(question)
    best_span, best_score = (0, 1), -1.0
    for start in range(len(sentences)):
        length, end = 0, start
        while end < len(sentences) and length + len(sentences[end]) <= limit:
            length += len(sentences[end])
            end += 1
        if end == start:  # one sentence longer than the limit
            end = start + 1
        score = len(wanted & _bigrams("".join(sentences[start:end])))
        if score > best_score:
            best_span, best_score = (start, end), score
    start, end = best_span
    excerpt = "".join(sentences[start:end]).strip()
    if len(excerpt) > limit:
        excerpt = excerpt[: limit - 1].rstrip("，、；,; ") + "…"
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(sentences) and not excerpt.endswith("…") else ""
    return f"{prefix}{excerpt}{suffix}"


def _lead(passage: Passage) -> str:
    title = passage.doc_title.strip("《》")
    # "江苏省的《江苏省医疗保障局…》" says the place twice: name it only when the title does not.
    places = [part for part in re.split(r"[省市区县州]", passage.region) if len(part) >= 2]
    where = f"{passage.region}的" if passage.region and not any(p in title for p in places) else ""
    return f"关于您问的问题，{where}《{title}》中是这样规定的："


def _is_further_source(passage: Passage, best: Passage) -> bool:
    """A runner-up the model reads as possibly answering too (what a "related" reply would show), not a copy."""
    if (passage.doc_id, passage.section) == (best.doc_id, best.section) and passage.text == best.text:
        return False
    return passage.band in ("confident", "related")


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if not c.isspace()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


# --- the resident's own records ------------------------------------------------------------------
# Each function states what the database holds, including "no record" and partly known data, and adds nothing.

NO_RECORD_HINT = "如果您近期刚办理相关业务，数据可能还在同步；如有疑问，可以说“转人工”请坐席为您核实。"


def yuan_text(amount: Decimal) -> str:
    """`Decimal("1234.5")` → `1,234.50 元`."""
    return f"{amount:,.2f} 元"


def date_text(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def enrolment_text(status: EnrolmentStatus) -> str:
    current = status.current
    if current is None:
        return f"系统中没有查到您的参保记录。{NO_RECORD_HINT}"
    plan = f"{current.region}{current.scheme}医保"
    employer = f"，参保单位：{current.employer}" if current.employer else ""
    if status.enrolled:
        return f"您目前处于参保缴费状态：{plan}，自{date_text(current.start_date)}起参保{employer}。"
    until = date_text(current.end_date) if current.end_date else "今"
    return (
        f"您最近一段参保记录是{plan}（{date_text(current.start_date)}至{until}{employer}），"
        f"当前状态：{current.status}。"
    )


def contributions_text(summary: ContributionSummary, scheme: Scheme | None = None) -> str:
    if not summary.has_record:
        return f"系统中没有查到您的缴费记录。{NO_RECORD_HINT}"
    plan = f"{scheme}医保" if scheme else "医保"
    records = summary.latest_year_records
    parts: list[str] = []
    yearly = [r for r in records if r.month is None]
    monthly = [r for r in records if r.month is not None]
    for record in yearly:
        paid_on = f"，缴费日期{date_text(record.paid_date)}" if record.paid_date else ""
        parts.append(f"{record.period_text}{plan}{record.status}，金额 {yuan_text(record.amount)}{paid_on}")
    if monthly:
        paid = [r for r in monthly if r.paid]
        parts.append(
            f"{summary.latest_year}年{plan}已缴 {len(paid)} 个月，合计 {yuan_text(summary.latest_year_paid_total)}"
        )
    # Arrears of the latest year were already named above; earlier ones are listed here.
    earlier_overdue = [r for r in summary.overdue if r not in records or r.month is not None]
    if earlier_overdue:
        periods = "、".join(r.period_text for r in earlier_overdue)
        parts.append(f"有 {len(earlier_overdue)} 笔欠缴（{periods}）")
    if summary.next_due:
        due = summary.next_due
        parts.append(f"下一笔应缴：{due.period_text} {yuan_text(due.amount)}，缴费截止日{date_text(due.due_date)}")
    return "；".join(parts) + "。"


def balance_text(balance: AccountBalance, scheme: Scheme | None = None) -> str:
    if not balance.applicable and scheme is Scheme.RESIDENT:
        return "您参加的是城乡居民医保，居民医保不设个人账户，所以没有个人账户余额可查。"
    if balance.balance is None:
        return f"暂未查到您的个人账户收支记录。{NO_RECORD_HINT}"
    text = f"您的个人账户余额为 {yuan_text(balance.balance)}（截至{date_text(balance.as_of)}）。"
    recent = balance.recent[:3]
    if recent:
        lines = "；".join(
            f"{date_text(line.posted_on)} {line.description} {_signed_yuan(line.amount)}" for line in recent
        )
        text += f"最近几笔：{lines}。"
    return text


def _signed_yuan(amount: Decimal) -> str:
    return f"{'+' if amount >= 0 else '-'}{yuan_text(abs(amount))}"


def reimbursement_text(summary: ReimbursementSummary) -> str:
    latest = summary.latest
    if latest is None:
        return f"系统中没有查到您的报销记录。{NO_RECORD_HINT}"
    text = (
        f"您最近一笔报销：{latest.hospital}，{date_text(latest.treatment_start)}就医，"
        f"{date_text(latest.submitted_on)}提交，医疗费用 {yuan_text(latest.total)}，状态：{latest.status}"
    )
    if latest.reimbursed is not None:
        settled = f"（{date_text(latest.settled_on)}结算）" if latest.settled_on else ""
        text += f"，报销金额 {yuan_text(latest.reimbursed)}{settled}"
    if latest.reason:
        text += f"，说明：{latest.reason}"
    text += "。"
    total = sum(summary.counts.values())
    if total > 1:
        breakdown = "，".join(f"{state} {count} 笔" for state, count in summary.counts.items())
        text += f"您共有 {total} 笔报销记录：{breakdown}。"
    return text


def offsite_filing_text(summary: OffsiteFilingSummary) -> str:
    if not summary.has_record:
        return f"系统中没有查到您的异地就医备案记录。{NO_RECORD_HINT}"
    in_force = summary.in_force
    if in_force:
        filings = "；".join(
            f"{f.destination}（{f.filing_type}），有效期{date_text(f.valid_from)}至"
            f"{date_text(f.valid_to) if f.valid_to else '长期有效'}"
            for f in in_force
        )
        return f"您有正在生效的异地就医备案：{filings}。"
    latest = summary.filings[0]
    return (
        f"您目前没有正在生效的异地就医备案。最近一次备案：{latest.destination}（{latest.filing_type}），"
        f"{date_text(latest.filed_on)}办理，状态：{latest.status}。"
    )


def evoucher_text(status: EVoucherStatus) -> str:
    if status.activated is None:
        return f"暂时没有查到您医保电子凭证的激活信息。{NO_RECORD_HINT}"
    if status.activated:
        when = f"（{date_text(status.activated_on)}激活）" if status.activated_on else ""
        return f"您的医保电子凭证已激活{when}。"
    return "您的医保电子凭证目前尚未激活。"
