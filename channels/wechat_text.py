"""Resident-facing WeChat text: bot replies flattened to plain text, split to WeChat's size, CDATA-safe."""

from __future__ import annotations

from typing import Any

# WeChat limits a text message (passive reply or customer-service message) to 2048 bytes of UTF-8.
MAX_TEXT_BYTES = 2048

WELCOME = (
    "您好，欢迎关注 12393 医保服务！我是医保政策智能助手，可以帮您：\n"
    "1. 解答医保政策问题，例如“异地就医怎么备案”“门诊报销比例是多少”，回答会注明政策文件出处；\n"
    "2. 核验身份后查询本人的参保、缴费、个人账户余额、报销进度和异地备案；\n"
    "3. 问题复杂时为您转人工，登记工单并告知办理时限。\n"
    "请直接输入您的问题。"
)
UNSUPPORTED = (
    "抱歉，目前只能处理文字消息，暂时无法识别语音、图片、位置等内容。"
    "请用文字描述您的问题，例如“职工医保个人账户能给家人用吗”。"
)
UNAVAILABLE = (
    "抱歉，系统繁忙，智能助手暂时无法回答。您的留言已记录（编号 {reference}），工作人员会尽快处理；"
    "紧急问题请拨打 12393 医保服务热线。"
)
TOO_FAST = "您发送得太频繁了，请稍等片刻再发送。"
TOO_LONG = "您的消息较长，请控制在 {limit} 字以内，分几次发送。"
EMPTY_ANSWER = "抱歉，这个问题我暂时无法回答。您可以换个说法，或回复“转人工”由工作人员为您解答。"


def render_bot_messages(messages: list[dict[str, Any]]) -> str:
    """Rasa messages as one text: answers and the quick replies as words to type.

    Policy answers already name their sources in the text (the web page also shows the `custom`
    citations as expandable quotes), so the citation payload adds nothing a WeChat reader can open.
    """
    parts: list[str] = []
    for message in messages:
        lines: list[str] = []
        if message.get("text"):
            lines.append(str(message["text"]).strip())
        buttons = [b.get("title") for b in message.get("buttons") or [] if b.get("title")]
        if buttons:
            lines.append("您可以回复：" + " / ".join(buttons))
        if lines:
            parts.append("\n".join(lines))
    return "\n\n".join(parts)


def split_for_wechat(text: str, max_bytes: int = MAX_TEXT_BYTES) -> list[str]:
    """Pieces of at most `max_bytes` UTF-8 bytes, cut at paragraph or line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while _size(line) > max_bytes:  # one very long line: cut it at a character boundary
            head = _prefix_within(line, max_bytes - _size(current))
            if not head:
                pieces.append(current.rstrip("\n"))
                current = ""
                continue
            pieces.append((current + head).rstrip("\n"))
            current, line = "", line[len(head) :]
        if _size(current + line) > max_bytes:
            pieces.append(current.rstrip("\n"))
            current = ""
        current += line
    if current.strip():
        pieces.append(current.rstrip("\n"))
    return [piece for piece in pieces if piece.strip()]


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _prefix_within(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")[: max(max_bytes, 0)]
    return encoded.decode("utf-8", errors="ignore")


def cdata_safe(text: str) -> str:
    """wechatpy writes text into `<![CDATA[…]]>` as is; a `]]>` inside would end the section early."""
    return text.replace("]]>", "]]]]><![CDATA[>")
