"""Request and response bodies of the web chat API: the Rasa REST webhook shape, sessions, feedback."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    """What Rasa's REST channel accepts; `sender` must be a token from POST /api/session."""

    sender: str | None = None
    message: str
    metadata: dict[str, Any] | None = None


class BotMessage(BaseModel):
    """One bot message as Rasa's REST channel returns it; citations and `abstain` travel in `custom`."""

    model_config = {"extra": "allow"}
    recipient_id: str
    text: str | None = None
    buttons: list[dict[str, Any]] | None = None
    custom: dict[str, Any] | None = None


class SessionResponse(BaseModel):
    sender: str = Field(description="Signed sender token: send it as `sender` with every chat message.")


class FeedbackRequest(BaseModel):
    sender: str | None = None
    rating: Literal["up", "down"]
    answer: str = Field(max_length=4000)
    question: str | None = Field(default=None, max_length=1000)
    comment: str | None = Field(default=None, max_length=500)


class AgentMessage(BaseModel):
    id: str
    ticket_number: str
    text: str
    sent_at: str
    kind: str = Field(default="答复", description="答复 (an agent's reply), 评价邀请, 回访反馈 or 留言答复")
    rating_token: str | None = Field(default=None, description="With 评价邀请: send it to POST /api/rating.")
    reference: str | None = Field(
        default=None, description="With 留言答复: the reference the resident was given when the bot was busy.")


class AgentMessages(BaseModel):
    messages: list[AgentMessage]
    next_since: str | None
