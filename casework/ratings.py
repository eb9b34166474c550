"""The resident's rating of a ticket's handling."""

from __future__ import annotations

from datetime import datetime

from casework.enums import Rating, TicketStatus
from casework.lifecycle import LEGAL_TRANSITIONS, IllegalTransition, transition
from casework.models import Ticket, TicketEvent
from hotline.privacy import mask_text


def rate_ticket(
    ticket: Ticket,
    rating: Rating | str,
    actor: str,
    comment: str = "",
    *,
    now: datetime | None = None,
) -> TicketEvent:
    """Record the resident's rating and close the lifecycle at 评价."""
    value = Rating(rating)
    if TicketStatus.RATED not in LEGAL_TRANSITIONS[TicketStatus(ticket.status)]:
        raise IllegalTransition(f"工单{ticket.number}当前为「{ticket.status}」，办结后才能评价。")
    ticket.rating = value
    ticket.rating_comment = mask_text(comment) or None
    return transition(
        ticket, TicketStatus.RATED, actor, f"评价：{value}" + (f"，{comment}" if comment else ""), now=now
    )
