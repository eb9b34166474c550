"""Request and response bodies of the agent desk API (tickets, login, assist, supervision).

Separate from the ORM models: only what an agent may see leaves the gateway (masked resident, no sender ids).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from casework.agents import AgentIdentity
from casework.enums import AgentRole, Rating, TicketCategory, TicketStatus
from casework.queue import CallbackLine, HistoryLine, MessageLine, NoteLine, QueueItem, TicketDetail
from casework.sla import SlaState

TEXT = Field(min_length=1, max_length=4000)


# --- login -------------------------------------------------------------------------------------


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class AgentOut(BaseModel):
    username: str
    display_name: str
    role: AgentRole

    @classmethod
    def of(cls, agent: AgentIdentity) -> AgentOut:
        return cls(username=agent.username, display_name=agent.display_name, role=agent.role)


class LoginResponse(BaseModel):
    token: str = Field(
        description="Session token: send as `Authorization: Bearer <token>` (or use the cookie)."
    )
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    csrf_token: str = Field(
        description="Send as `X-CSRF-Token` with changes when authenticated by the cookie."
    )
    agent: AgentOut


class MeResponse(BaseModel):
    agent: AgentOut
    csrf_token: str | None = None  # present when the request came with the desk cookie


# --- tickets -----------------------------------------------------------------------------------


class DeadlineOut(BaseModel):
    state: SlaState
    due_at: datetime
    remaining_seconds: int = Field(description="Working time left; negative when overdue; 0 once answered.")
    remaining_text: str


class QueueItemOut(BaseModel):
    number: str
    category: TicketCategory
    status: TicketStatus
    channel: str
    created_at: datetime
    deadline: DeadlineOut
    assignee: str | None
    assignee_name: str | None
    resident: str | None = Field(description="Masked name and ID number, when the resident was verified.")
    topic: str
    supervised: bool
    callback_due: datetime | None
    rating: Rating | None

    @classmethod
    def of(cls, item: QueueItem) -> QueueItemOut:
        d = item.deadline
        return cls(
            **{k: getattr(item, k) for k in cls.model_fields if k != "deadline"},
            deadline=DeadlineOut(
                state=d.state,
                due_at=d.due_at,
                remaining_seconds=int(d.remaining.total_seconds()),
                remaining_text=d.remaining_text,
            ),
        )


class TicketOut(QueueItemOut):
    transcript: str
    summary: str | None
    rating_comment: str | None
    allowed_next: list[TicketStatus]
    history: list[HistoryLine]
    messages: list[MessageLine]
    notes: list[NoteLine]
    callbacks: list[CallbackLine]
    merged_into: str | None
    merged_from: list[str]

    @classmethod
    def of_detail(cls, detail: TicketDetail) -> TicketOut:
        return cls(
            **QueueItemOut.of(detail.item).model_dump(),
            transcript=detail.transcript,
            summary=detail.summary,
            rating_comment=detail.rating_comment,
            allowed_next=detail.allowed_next,
            history=detail.history,
            messages=detail.messages,
            notes=detail.notes,
            callbacks=detail.callbacks,
            merged_into=detail.merged_into,
            merged_from=detail.merged_from,
        )


class UpdateRequest(BaseModel):
    status: TicketStatus | None = Field(
        default=None, description="Next status; must be allowed (409 otherwise)."
    )
    note: str = Field(default="", max_length=1000, description="Why, for the history.")
    summary: str | None = Field(default=None, max_length=500, description="The handling summary (办理摘要).")


class ReplyRequest(BaseModel):
    text: str = TEXT
    resolve: bool = Field(
        default=False, description="Also mark the ticket answered (答复) and invite a rating."
    )


class NoteRequest(BaseModel):
    text: str = TEXT


class MergeRequest(BaseModel):
    into: str = Field(min_length=1, max_length=32, description="The ticket this duplicate is merged into.")
    note: str = Field(default="", max_length=500)


class ReassignRequest(BaseModel):
    assignee: str = Field(min_length=1, max_length=64, description="Username of the agent taking it over.")
    reason: str = Field(default="", max_length=500)


class ReturnRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class CallbackRequest(BaseModel):
    outcome: str = Field(min_length=1, max_length=2000, description="What the resident was told (整改情况).")
    reopen: bool = Field(default=False, description="The problem is not solved: back to handling.")


# --- assist ------------------------------------------------------------------------------------


class AssistRequest(BaseModel):
    """Exactly one of: what a caller just said, a transcript (e.g. from speech recognition), a ticket number."""

    utterance: str | None = Field(default=None, max_length=500)
    transcript: str | None = Field(default=None, max_length=8000)
    ticket: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _exactly_one(self) -> AssistRequest:
        given = [v for v in (self.utterance, self.transcript, self.ticket) if v and v.strip()]
        if len(given) != 1:
            raise ValueError("请只提供 utterance、transcript、ticket 三者之一 / give exactly one input")
        return self


class SuggestionOut(BaseModel):
    id: int = Field(description="Use it to mark the suggestion (useful / wrong / inserted).")
    rank: int
    sentence: str = Field(description="The sentence of the passage that answers.")
    passage: str
    source: str = Field(description="《document》 · section · region")
    chunk_id: str
    confidence: float
    band: str | None = None


class AssistResponse(BaseModel):
    query: str = Field(description="What was searched (masked).")
    intent: str | None
    intent_confidence: float | None
    category: TicketCategory = Field(description="Suggested ticket category.")
    suggestions: list[SuggestionOut]


class MarkRequest(BaseModel):
    mark: Literal["useful", "wrong", "inserted"]
