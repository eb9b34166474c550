"""Reading a name, an ID number and phone digits out of what a resident typed: the identity form's rules, also
used to keep names out of transcripts (actions) and the turn log (gateway).

ID numbers arrive masked (`3601**********9014`): the gateway seals the real number before the text reaches
Rasa (casework.sealed_ids), and `masked_id_numbers` finds those forms for the form to unseal. Whole phone
numbers arrive as `138****5678`; their last four digits are what verification needs.
"""

from __future__ import annotations

import re
import unicodedata

from casework.id_numbers import normalize_digits

# "我叫张三" / "姓名：张三" / "张三。" → "张三"; names may hold the middle dot of minority names.
_NAME_PREFIX = re.compile(r"^(我的名字是|我的名字叫|名字是|名字叫|我叫|我是|本人|姓名是|姓名[:：]?|名字[:：]?)")
_NAME = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,10}(?:·[\u4e00-\u9fff]{1,10})+)$")
# Characters that make a message a question or a request, not a name ("为什么", "不想说", "查余额").
_PART_SEPARATOR = re.compile(r"[,，;；、\s]+")
_NOT_IN_NAMES = set("吗呢吧啊么什怎哪谁查询办要想说不没的了嗯哦")
# The longest run that could be an ID number (digits, X, separators) inside a sentence.
_ID_CANDIDATE = re.compile(r"[0-9０-９Xx][0-9０-９Xx \-]{5,}[0-9０-９Xx]|[0-9０-９]+")
_DIGIT_RUN = re.compile(r"\d+")
# hotline.privacy.mask_id_number's forms of an 18- and a 15-digit number.
_MASKED_ID = re.compile(r"(?<![0-9A-Za-z*])(?:\d{4}\*{10}[0-9Xx]{4}|\d{4}\*{7}\d{4})(?![0-9A-Za-z*])")


def extract_name(text: str) -> str | None:
    """"张三" / "我叫张三。" / "我叫张三，身份证号……" → "张三"; None when no part of the message is a name."""
    normalized = unicodedata.normalize("NFKC", text).replace("•", "·").replace("・", "·")
    # A message may carry all three fields: look at each comma-separated part.
    for part in _PART_SEPARATOR.split(normalized):
        value = "".join(_NAME_PREFIX.sub("", part.strip().strip("。.!！～~")).split())
        if _NAME.fullmatch(value) and not _NOT_IN_NAMES & set(value):
            return value
    return None


def is_name(value: str) -> bool:
    """A whole value the identity form would accept as a name (a rejected one must not mask transcripts)."""
    return extract_name(value) == value


def extract_id_number(text: str) -> str:
    """The ID-number-like part of a sentence ("我的身份证号是 110101 19900307 7777" → the digits), else the text."""
    candidates = _ID_CANDIDATE.findall(text)
    if not candidates:
        return text
    return max(candidates, key=lambda c: len(normalize_digits(c)))


def masked_id_numbers(text: str) -> list[str]:
    """The masked ID numbers in a message, as the gateway wrote them: `3601**********9014`."""
    return _MASKED_ID.findall(text)


def extract_phone_digits(text: str) -> str:
    """"后四位是5678" → "5678"; a whole mobile number, masked or not, gives its last four digits."""
    runs = _DIGIT_RUN.findall(normalize_digits(text))
    if not runs:
        return text
    if re.search(r"1[3-9]\d\*{4}\d{4}", text):  # `138****5678`: the masked middle is not a digit run
        return runs[-1]
    return max(runs, key=len)
