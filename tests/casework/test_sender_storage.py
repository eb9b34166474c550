"""Sender ids are kept as keyed hashes on tickets and messages (issue 9, finding 2); web polling and WeChat
delivery still reach the right resident."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.enums import TicketCategory
from casework.models import Ticket, TicketEvent, TicketMessage
from casework.tickets import (
    add_agent_message,
    claim_undelivered,
    find_ticket,
    messages_for_sender,
    open_ticket,
    ticket_progress,
)

WEB = "web:Q2hhdFNlc3Npb24xMjM0"
WECHAT = "wechat:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def _open(session: Session, sender: str, channel: str) -> str:
    receipt = open_ticket(session, category=TicketCategory.HUMAN_AGENT, transcript=["居民：转人工"],
                          channel=channel, sender_id=sender)
    session.flush()
    return receipt.number


def test_no_table_holds_a_sender_id_or_openid_in_the_clear(session: Session) -> None:
    for sender, channel in ((WEB, "web"), (WECHAT, "wechat")):
        add_agent_message(session, find_ticket(session, _open(session, sender, channel)), author="agent:王", text="您好")
    session.flush()
    stored = [*session.scalars(select(Ticket.sender_id)), *session.scalars(select(Ticket.reply_to)),
              *session.scalars(select(TicketMessage.sender_id)), *session.scalars(select(TicketMessage.reply_to)),
              *session.scalars(select(TicketEvent.actor))]
    everything = "\n".join(str(value) for value in stored)
    assert "Q2hhdFNlc3Npb24xMjM0" not in everything and "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" not in everything
    assert {s.split(":")[0] for s in session.scalars(select(Ticket.sender_id))} == {"web", "wechat"}


def test_web_polling_finds_the_replies_by_the_real_sender_id(session: Session) -> None:
    ticket = find_ticket(session, _open(session, WEB, "web"))
    add_agent_message(session, ticket, author="agent:王", text="已为您核实")
    assert [m.text for m in messages_for_sender(session, WEB)] == ["已为您核实"]
    assert messages_for_sender(session, "web:another-session") == []
    assert ticket_progress(session, ticket.number, sender_id=WEB) is not None
    assert ticket_progress(session, ticket.number, sender_id="web:another-session") is None


def test_the_wechat_outbox_gets_the_openid_back(session: Session) -> None:
    ticket = find_ticket(session, _open(session, WECHAT, "wechat"))
    add_agent_message(session, ticket, author="agent:王", text="已为您核实")
    _open(session, WEB, "web")
    [claimed] = claim_undelivered(session, sender_prefix="wechat:")
    assert claimed.sender_id == WECHAT and claimed.text == "已为您核实"
    assert claim_undelivered(session, sender_prefix="wechat:") == []  # claimed once
