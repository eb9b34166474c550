"""Checking what a resident typed as an ID number (GB 11643-1999) or as the last four digits of a phone.

Input is whatever came through the chat: spaces, full-width digits, a lower-case x. The result says whether it
is usable and, if not, explains the problem in words a resident understands (never echoing the full number).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from casework.column_types import china_today

ID_NUMBER_LENGTH = 18
# GB 11643 / ISO 7064 MOD 11-2: position i weighs 2^(17-i) mod 11; the remainder picks the check character.
_WEIGHTS = tuple(pow(2, ID_NUMBER_LENGTH - 1 - i, 11) for i in range(ID_NUMBER_LENGTH - 1))
_CHECK_CHARACTERS = "10X98765432"
_SEPARATORS = re.compile(r"[\s\-_.·]+")


@dataclass(frozen=True)
class IdNumberCheck:
    valid: bool
    normalized: str | None  # 18 characters, upper-case X; None when the input cannot be an ID number
    problem: str | None  # resident-facing Chinese explanation; None when valid


@dataclass(frozen=True)
class PhoneLast4Check:
    valid: bool
    normalized: str | None
    problem: str | None


def normalize_digits(text: str) -> str:
    """Full-width digits and letters become ASCII (NFKC); spaces and common separators disappear."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def check_id_number(text: str, *, today: date | None = None) -> IdNumberCheck:
    """Validate an 18-digit ID number: length, characters, birth date, check digit (in that order)."""
    value = normalize_digits(text or "")
    if not value:
        return IdNumberCheck(False, None, "没有收到身份证号码，请输入您的18位身份证号码。")
    if not re.fullmatch(r"[0-9X]+", value):
        return IdNumberCheck(False, None, "身份证号码只能包含数字，最后一位可能是字母X，请检查后重新输入。")
    if len(value) != ID_NUMBER_LENGTH:
        if len(value) == 15:
            return IdNumberCheck(
                False, None, "您输入的是15位号码，请使用现行的18位身份证号码（可在身份证正面查看）。"
            )
        return IdNumberCheck(
            False, None, f"位数不对：身份证号码应为18位，您输入了{len(value)}位，请核对后重新输入。"
        )
    if "X" in value[:-1]:
        return IdNumberCheck(False, None, "字母X只可能出现在身份证号码的最后一位，请检查后重新输入。")
    if _birth_date(value, today or china_today()) is None:
        return IdNumberCheck(False, None, "出生日期无效：号码第7至14位应是您的出生年月日，请核对后重新输入。")
    if check_digit(value[:17]) != value[17]:
        return IdNumberCheck(
            False, None, "校验位不对：号码中可能有数字输错或顺序颠倒，请对照身份证逐位核对后重新输入。"
        )
    return IdNumberCheck(True, value, None)


def birth_date_of(id_number: str) -> date | None:
    """The birth date encoded in a (normalized) 18-digit ID number, or None if it is not a real date."""
    return _birth_date(id_number, date.max)


def _birth_date(value: str, today: date) -> date | None:
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    # 1900 is a safe lower bound: no living resident was born before it, and it catches typos like 0990.
    if born.year < 1900 or born > today:
        return None
    return born


def check_phone_last4(text: str) -> PhoneLast4Check:
    """The last four digits of the phone number registered for the insured person."""
    value = normalize_digits(text or "")
    if not value:
        return PhoneLast4Check(False, None, "没有收到号码，请输入您登记手机号码的后4位数字。")
    if not value.isdigit():
        return PhoneLast4Check(False, None, "请只输入数字：您登记手机号码的后4位。")
    if len(value) == 11:
        # A resident who types the whole number still means its last four digits.
        return PhoneLast4Check(True, value[-4:], None)
    if len(value) != 4:
        return PhoneLast4Check(
            False, None, f"需要的是手机号码的后4位数字，您输入了{len(value)}位，请重新输入。"
        )
    return PhoneLast4Check(True, value, None)
