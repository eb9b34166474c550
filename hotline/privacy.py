"""The one place personal data is masked: in replies, logs, tickets and audit records."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_OLD_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# Residents type `3601 0219 9001 0112 3X`, `138-1234-5678` or full-width `１３８…`: a digit run with such
# separators is closed up before matching, but only when the result has an ID or mobile length.
_SPACED_DIGITS = re.compile(
    r"(?<![0-9A-Za-z０-９])[0-9０-９](?:[\s\-]*[0-9０-９]){9,17}(?:[\s\-]*[XxＸｘ])?(?![0-9A-Za-z０-９])"
)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def mask_id_number(id_number: str) -> str:
    """`360102199001011234` → `3601**********1234`: region prefix and last four stay for recognisability."""
    value = id_number.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`; anything shorter keeps only its last four digits."""
    value = phone.strip()
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_name(name: str) -> str:
    """`张三` → `张*`, `欧阳娜娜` → `欧***`: the family name is enough for a resident to recognise themselves."""
    value = name.strip()
    return value[:1] + "*" * (len(value) - 1) if value else value


def _close_up(match: re.Match[str]) -> str:
    joined = re.sub(r"[\s\-]", "", match.group(0)).translate(_FULL_WIDTH)
    return joined if len(joined) in (11, 15, 18) else match.group(0)


def id_numbers_in(text: str) -> list[str]:
    """Every ID number in free text, however typed (spaced, full-width), as `mask_text` finds and masks it:
    `mask_id_number(found)` is what stands in the masked text."""
    closed = _SPACED_DIGITS.sub(_close_up, text)
    found = [m.group(0) for m in _ID_NUMBER.finditer(closed)]
    return found + [m.group(0) for m in _OLD_ID_NUMBER.finditer(_ID_NUMBER.sub("", closed))]


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Mask every ID number and mobile number in free text (transcripts, log lines, ticket notes),
    however it was typed, and every occurrence of the given names (e.g. the verified resident's)."""
    text = _SPACED_DIGITS.sub(_close_up, text)
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _OLD_ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    for name in names:
        if len(name) >= 2:  # a one-character "name" would mask ordinary words
            text = text.replace(name, mask_name(name))
    return text


class MaskingFilter(logging.Filter):
    """Logging filter that masks personal data in every record before any handler writes it.

    The message and each argument are masked separately, so formatters that read `record.args`
    (uvicorn's access log does) keep working.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        values = record.args.values() if isinstance(record.args, Mapping) else record.args or ()
        if any(not isinstance(value, str) and mask_text(str(value)) != str(value) for value in values):
            # An ID or phone passed as a number cannot stay a number once masked (%d would fail): format, then mask.
            record.msg, record.args = mask_text(record.getMessage()), ()
        elif isinstance(record.args, tuple):
            record.args = tuple(_mask_value(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _mask_value(value) for key, value in record.args.items()}
        return True


def _mask_value(value: object) -> object:
    text = str(value)
    masked = mask_text(text)
    return value if masked == text else masked


def install_log_masking() -> None:
    """Attach the masking filter to every handler of the root logger (call once at process start)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
