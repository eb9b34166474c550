"""What a message asks for where its intent alone does not say: the resident's own record or the rules for
everybody; a report being made or a question about how reports are handled.

The classifier sees the topic (个人账户, 举报 …); these cues see who and what the sentence is about, so a resident
is not asked for an ID number to learn a rule, and a question about reports does not open a ticket.
"""

from __future__ import annotations

import re

from actions.domain.followups import looks_like_follow_up

# Residents asking about their records speak of themselves or ask for a lookup: all account-lookup examples in
# bot/data/nlu but a few terse ones ("医保账户余额") have one of these. A question with none
# ("退休了个人账户还划钱吗") asks how things work; a terse lookup gets the documents' answer, its lookup a tap away.
_OWN_RECORDS = re.compile(r"[我俺咱]|本人|自己|自家|帮|查|看看|看一?下")
# The asker's own "I" that only introduces the question ("我想问问门诊统筹是啥意思", "我想咨询一下…") is not about
# their records; what follows it decides.
_ASKING_PREAMBLE = re.compile(r"^[我俺]?[想要]?(?:问|咨询|了解|知道)(?:问|一下|下)?")
# A resident can ask a rule in the first person: "公司缓交的那几个月，我个人账户还照常进钱不", "俺家是低保户，交医保
# 政府给掏钱不". Such questions speak of what happens as a rule (每月, 照常, 还进不进, 政府给不给) and not of the state
# of one record (了没, 到账, 余额, 还能用不). 2 of the 395 taught lookups read so (我每个月医保扣多少钱, 我个人账户每月
# 划入多少): asked either way, so the rule beside the identity check is of use there too. Which scheme one should
# join, where one's 户口 lets one pay, 主动 paying ("没单位该参哪种", "户口在昭通能在曲靖交不"), whether a case can
# be reimbursed ("住院了没备案，回来还能报不"), where an app is had ("医保APP在哪下载"), whether one still has to
# pay ("退休了还要交吗"), reductions ("八十了交医保有优惠不") and what a term means are rules too.
_RULE_WORDS = re.compile(
    r"每个?月|每年|照常|还(?:进|给|划|打|算|管)|政府|掏钱|怎么算|标准|比例|规定|政策|按什么|怎么[划记计]|([^是有能])不\1"
    r"|该(?:参|交|缴|选|买|办)(?!了)|哪一?[种类]|户口|户籍|就近|主动|(?:能|可以|给)报|下载|安装"
    r"|还(?:要|用|需要?|得)(?:交|缴|参)(?!多少)|优惠|减免|[啥什么]意思"
)
# 了没 asks a record's state where it ends the question ("交了没", "报了没得"), not in "住院了没备案" (…, with no filing).
_RECORD_STATE = re.compile(
    r"了没(?:有|得)?(?:$|[^\u4e00-\u9fff]|[啊呀呢哦吧])|了吗|没有$|[没不]了$|成功|到账|状态|记录|余额|剩|查|帮我"
    r"|看看|看一?下|激活|通过|上次|去年|今年|这个月|上个月"
    r"|明细|几年|交到|能用|还在|够不够|是不是没|多久"
)
# Every report_fraud and complaint example states the matter or the wish to file it. A question without such a
# wish ("举报的线索是不是都会查", "投诉了多久有回复", "会记我的信用不", "怎么防止冒名住院") asks how things are
# handled. A bare 怎么 is no question mark here ("你们怎么回事", "医院怎么能乱收费" complain); 我要是 is "if I";
# 一般 / 通常 ask what usually happens ("我之前投诉过乱收费，你们一般怎么处理这种投诉").
_QUESTION = re.compile(
    r"吗|呢|(?:一般|通常)(?:都|会|是|要|怎么|如何|多久|多长|几天)|[？?]|是不是|会不会|有没有|能不能|了没|过没|没有$"
    r"|[没不]$|多少|多久|(?:怎么|如何|咋)(?:防|避免|保证|保护|保障|监督|监管)|去哪|哪里|在哪|哪儿"
)
_WISH_TO_FILE = re.compile(
    r"我要(?!是)|我想|想要|要(举报|投诉|反映)|帮我|[咋怎]么?(举报|投诉)|如何(举报|投诉)|找谁|哪里(举报|投诉)"
    r"|我来|我有|我发现|我知道|我怀疑"
)

# A question about how ratings are handled ("给了差评多久会有人回访我", "对答复不满意可以申请复核吗") names ratings
# or 回访 and asks something; a rating itself ("差评", "服务很好，五星") states a judgement and asks nothing.
_RATING_WORDS = re.compile(r"差评|好评|好差评|评价|回访|满意|打分|评分")
_RATING_QUESTION = re.compile(r"多久|多长时间|几天|什么|会不会|有没有|有人|谁|怎么|如何|吗|呢|[？?]|是不是|能不能|哪里")


def asks_about_rating_rules(text: str) -> bool:
    """A question about ratings, 差评 or 回访 (a policy question for the documents), not a rating to record."""
    text = text.strip()
    return not _chosen_by_button(text) and bool(_RATING_WORDS.search(text)) and bool(_RATING_QUESTION.search(text))


# The words of a bare yes or no ("好的呀", "要的要的", "不用了", "没有啊"): what is left without them names something.
_YES_NO_WORDS = re.compile(r"好|行|对|是|嗯|要|得|需|可以|不用|没有|没|不|冇|了|的|吧|哦|噢|呀|啊|嘞|呢|吗|那|就|这样|谢谢|算|ok", re.I)
_NOT_WORDS = re.compile(r"[\s，。？！?!,.、…~]+")


def asks_a_follow_up(text: str) -> bool:
    """A short message leaning on the previous question that names something ("低保户呢", "不同级别的医院一样吗"),
    not a bare yes or no, however the classifier read it."""
    text = text.strip()
    return (not _chosen_by_button(text) and looks_like_follow_up(text)
            and bool(_YES_NO_WORDS.sub("", _NOT_WORDS.sub("", text))))


# The button that does what the intent would have done, shown beside an answer from the documents.
_REQUESTS: dict[str, str] = {
    "check_enrollment": "查询本人参保状态",
    "check_contributions": "查询本人缴费记录",
    "check_account_balance": "查询本人个人账户余额",
    "check_reimbursement": "查询本人报销进度",
    "check_offsite_filing": "查询本人异地就医备案",
    "check_e_voucher": "查询本人医保电子凭证",
    "report_fraud": "登记举报线索",
    "complaint": "登记投诉",
}


def _chosen_by_button(text: str) -> bool:
    """A button payload ("/check_account_balance") is the resident's explicit choice."""
    return text.startswith("/")


def asks_about_own_records(text: str) -> bool:
    text = text.strip()
    return not text or _chosen_by_button(text) or bool(_OWN_RECORDS.search(_ASKING_PREAMBLE.sub("", text)))


def asks_how_a_rule_applies(text: str) -> bool:
    """A question about one's own records that asks how a rule treats one's case, not what a record holds."""
    text = text.strip()
    return not _chosen_by_button(text) and bool(_RULE_WORDS.search(text)) and not _RECORD_STATE.search(text)


# No taught greeting or chitchat names a 医保 matter; one that does and asks something ("我想给我爸妈交医保，去哪交",
# "医保局周末上班吗") is a policy question the classifier took for small talk.
_INSURANCE_MATTER = re.compile(
    r"医保|医疗保[险障]|社保|新农合|合疗|报销|参保|缴费|住院|门诊|长护险|护理保险|个人账户|异地就医|12393"
)
_ASKS = re.compile(r"吗|呢|嘛|[？?]|怎么|咋|什么|啥|哪|几|多少|多久|能不能|是不是|有没有|可以不|[不没]$")


def asks_about_insurance(text: str) -> bool:
    text = text.strip()
    return not _chosen_by_button(text) and bool(_INSURANCE_MATTER.search(text)) and bool(_ASKS.search(text))


def asks_how_filing_works(text: str) -> bool:
    text = text.strip()
    return not _chosen_by_button(text) and bool(_QUESTION.search(text)) and not _WISH_TO_FILE.search(text)


def request_button(intent: str | None) -> dict[str, str] | None:
    """For an intent answered from the documents instead: the one-tap way to what it would have done."""
    title = _REQUESTS.get(intent or "")
    return {"title": title, "payload": f"/{intent}"} if title else None
