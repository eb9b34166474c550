"""ORM models (SQLAlchemy 2, typed). The schema itself is created by the Alembic migrations in `migrations/`.

Money is stored in fen (integer cents) so sums are exact on every backend; the domain layer shows yuan.
ID numbers and phones are stored in full (lookups need them); `hotline.privacy` masks them wherever shown.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from casework.column_types import UtcDateTime, chinese_enum, utc_now
from casework.enums import (
    AgentRole,
    ClaimState,
    ContributionState,
    EnrolmentState,
    LookupKind,
    LookupOutcome,
    MessageKind,
    OffsiteFilingState,
    OffsiteFilingType,
    QueuedMessageStatus,
    Rating,
    Scheme,
    SuggestionVerdict,
    SupervisionKind,
    TicketCategory,
    TicketEventKind,
    TicketStatus,
    TurnOutcome,
)

# Deterministic constraint names so migrations can alter them on both SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Resident(Base):
    """An insured person. Optional columns are genuinely optional: real records are often incomplete."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(64))
    scheme: Mapped[Scheme | None] = mapped_column(chinese_enum(Scheme, "scheme"))
    # None = the activation state of the 医保电子凭证 is unknown to us (not the same as "not activated").
    evoucher_activated: Mapped[bool | None] = mapped_column(Boolean)
    evoucher_activated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="resident", order_by="Enrolment.start_date"
    )
    contributions: Mapped[list[Contribution]] = relationship(back_populates="resident")
    account_entries: Mapped[list[AccountEntry]] = relationship(back_populates="resident")
    claims: Mapped[list[Claim]] = relationship(back_populates="resident")
    offsite_filings: Mapped[list[OffsiteFiling]] = relationship(back_populates="resident")


class Enrolment(Base):
    """One enrolment period (参保期间); the current one has no end date."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[Scheme] = mapped_column(chinese_enum(Scheme, "enrolment_scheme"))
    region: Mapped[str] = mapped_column(String(64))
    status: Mapped[EnrolmentState] = mapped_column(chinese_enum(EnrolmentState, "enrolment_state"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    employer: Mapped[str | None] = mapped_column(String(128))

    resident: Mapped[Resident] = relationship(back_populates="enrolments")


class Contribution(Base):
    """A contribution due: monthly for 职工 (month 1–12), yearly for 居民 (month None)."""

    __tablename__ = "contributions"
    __table_args__ = (UniqueConstraint("resident_id", "year", "month", name="uq_contributions_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[ContributionState] = mapped_column(chinese_enum(ContributionState, "contribution_state"))
    due_date: Mapped[date] = mapped_column(Date)
    paid_date: Mapped[date | None] = mapped_column(Date)

    resident: Mapped[Resident] = relationship(back_populates="contributions")


class AccountEntry(Base):
    """One line of the 职工 personal account ledger; `balance_fen` is the balance after this entry."""

    __tablename__ = "account_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    posted_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(128))
    amount_fen: Mapped[int] = mapped_column(Integer)  # positive = 划入, negative = 支出
    balance_fen: Mapped[int] = mapped_column(Integer)

    resident: Mapped[Resident] = relationship(back_populates="account_entries")


class Claim(Base):
    """A reimbursement claim (手工报销/零星报销) and its progress."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    claim_number: Mapped[str] = mapped_column(String(32), unique=True)
    hospital: Mapped[str] = mapped_column(String(128))
    treatment_start: Mapped[date] = mapped_column(Date)
    treatment_end: Mapped[date | None] = mapped_column(Date)
    submitted_on: Mapped[date] = mapped_column(Date)
    total_fen: Mapped[int] = mapped_column(Integer)
    reimbursed_fen: Mapped[int | None] = mapped_column(Integer)  # known once settled
    status: Mapped[ClaimState] = mapped_column(chinese_enum(ClaimState, "claim_state"))
    status_reason: Mapped[str | None] = mapped_column(String(256))  # why returned, what is missing
    settled_on: Mapped[date | None] = mapped_column(Date)

    resident: Mapped[Resident] = relationship(back_populates="claims")


class OffsiteFiling(Base):
    """An 异地就医 filing (备案): where the resident may be treated with direct settlement, and until when."""

    __tablename__ = "offsite_filings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    destination: Mapped[str] = mapped_column(String(64))
    filing_type: Mapped[OffsiteFilingType] = mapped_column(chinese_enum(OffsiteFilingType, "offsite_type"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # None = long-term, until cancelled
    status: Mapped[OffsiteFilingState] = mapped_column(chinese_enum(OffsiteFilingState, "offsite_state"))
    filed_on: Mapped[date] = mapped_column(Date)

    resident: Mapped[Resident] = relationship(back_populates="offsite_filings")


class AuditRecord(Base):
    """Who looked up whose personal data, when, and what kind. The subject is stored masked only."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(128))  # e.g. "rest:5f3c…" (channel:sender) or "agent:wang"
    lookup: Mapped[LookupKind] = mapped_column(chinese_enum(LookupKind, "lookup_kind"))
    outcome: Mapped[LookupOutcome] = mapped_column(chinese_enum(LookupOutcome, "lookup_outcome"))
    subject: Mapped[str] = mapped_column(String(128))  # masked name + masked ID number
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )


class Ticket(Base):
    """A work order (工单) with the 12393 lifecycle. Transcript and resident details are stored masked."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_channel_sender", "channel", "sender_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # 12393-20261123-0007
    category: Mapped[TicketCategory] = mapped_column(chinese_enum(TicketCategory, "ticket_category"))
    status: Mapped[TicketStatus] = mapped_column(chinese_enum(TicketStatus, "ticket_status"), index=True)
    channel: Mapped[str] = mapped_column(String(32))  # where a reply must go back: "rest", "wechat", …
    sender_id: Mapped[str] = mapped_column(String(128))  # keyed hash (casework.senders.stored_sender)
    # Where a pushed reply goes (the WeChat openid), sealed (casework.sealing); None for senders that poll (web).
    reply_to: Mapped[str | None] = mapped_column(Text)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    resident_masked: Mapped[str | None] = mapped_column(String(128))
    summary: Mapped[str | None] = mapped_column(String(500))
    transcript: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)  # 督办 flag: stays set once raised
    supervised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rating: Mapped[Rating | None] = mapped_column(chinese_enum(Rating, "ticket_rating"))
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The agent handling it; None = in the pool, waiting to be claimed.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the first 答复: what the SLA measures
    # A duplicate (same resident, same topic) points at the ticket it was merged into and leaves the queue.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # Makes opening idempotent: the hash of the sender and the message that asked for it (casework.outbox), so a
    # turn retried on another Rasa server, or a spooled ticket written twice, still gives one ticket.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    assignee: Mapped[Agent | None] = relationship()
    merged_into: Mapped[Ticket | None] = relationship(remote_side="Ticket.id", back_populates="duplicates")
    duplicates: Mapped[list[Ticket]] = relationship(back_populates="merged_into", order_by="Ticket.id")
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list[TicketNote]] = relationship(
        back_populates="ticket", order_by="TicketNote.id", cascade="all, delete-orphan"
    )
    callbacks: Mapped[list[CallbackTask]] = relationship(
        back_populates="ticket", order_by="CallbackTask.id", cascade="all, delete-orphan"
    )


class TicketSequence(Base):
    """The last ticket number issued per day; incremented atomically so concurrent tickets never collide."""

    __tablename__ = "ticket_sequences"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # 20261123 (China date)
    last_value: Mapped[int] = mapped_column(Integer)


class TicketEvent(Base):
    """One step of a ticket's lifecycle; the first event has no `from_status`."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TicketEventKind] = mapped_column(
        chinese_enum(TicketEventKind, "ticket_event_kind"),
        default=TicketEventKind.STATUS,
        server_default=TicketEventKind.STATUS.value,
    )
    from_status: Mapped[TicketStatus | None] = mapped_column(chinese_enum(TicketStatus, "event_from_status"))
    to_status: Mapped[TicketStatus] = mapped_column(chinese_enum(TicketStatus, "event_to_status"))
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketMessage(Base):
    """A message an agent sends back to the resident, delivered to the same channel and sender later."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_recipient", "channel", "sender_id", "delivered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(128))  # the agent
    kind: Mapped[MessageKind] = mapped_column(
        chinese_enum(MessageKind, "ticket_message_kind"),
        default=MessageKind.REPLY,
        server_default=MessageKind.REPLY.value,
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reply_to: Mapped[str | None] = mapped_column(Text)  # the recipient ticket's sealed reply address

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class IdentityAttempt(Base):
    """One identity verification, kept so lockouts hold per person, per conversation and per client, across
    `/restart` and new sessions (casework.verification). Every identifier is a keyed hash (casework.pseudonyms)."""

    __tablename__ = "identity_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    target: Mapped[str] = mapped_column(String(32), index=True)  # the ID number tried
    sender: Mapped[str] = mapped_column(String(64), index=True)  # the conversation (channel:hash)
    client: Mapped[str | None] = mapped_column(String(32), index=True)  # the client IP (web); None for WeChat
    succeeded: Mapped[bool] = mapped_column(Boolean)


class SealedIdNumber(Base):
    """An ID number a resident typed, encrypted for a few minutes: the gateway masks it before the text reaches
    Rasa, the identity form unseals it to verify (casework.sealed_ids)."""

    __tablename__ = "sealed_id_numbers"
    __table_args__ = (Index("ix_sealed_id_numbers_lookup", "sender", "masked"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(64))  # keyed hash of the sender id
    masked: Mapped[str] = mapped_column(String(24))  # 3601**********9014, as Rasa sees it
    sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class TicketNote(Base):
    """An internal note on a ticket: for agents and supervisors only, never delivered to the resident."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    ticket: Mapped[Ticket] = relationship(back_populates="notes")


class CallbackTask(Base):
    """A 回访 (follow-up call) owed to a resident who rated a ticket 不满意, due within N working days."""

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(Text)  # what the resident was told about the 整改
    supervised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # 督办 raised when it ran late

    ticket: Mapped[Ticket] = relationship(back_populates="callbacks")


class SupervisionEvent(Base):
    """A 督办 raised on a ticket: its answer or its 回访 ran past the time limit."""

    __tablename__ = "supervision_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SupervisionKind] = mapped_column(chinese_enum(SupervisionKind, "supervision_kind"))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the limit that was missed
    note: Mapped[str] = mapped_column(Text, default="")

    ticket: Mapped[Ticket] = relationship()


class Agent(Base):
    """A hotline agent or supervisor who logs in to the desk. Only an argon2 hash of the password is kept."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[AgentRole] = mapped_column(chinese_enum(AgentRole, "agent_role"))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # consecutive, reset by a good login
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AgentSession(Base):
    """A desk login: only the SHA-256 of its random token is stored, so a database dump logs no one in."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    agent: Mapped[Agent] = relationship()


class AssistSuggestion(Base):
    """One suggested answer shown to an agent, and what the agent did with it (inserted, marked)."""

    __tablename__ = "assist_suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shown_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    query: Mapped[str] = mapped_column(Text)  # masked
    rank: Mapped[int] = mapped_column(Integer)  # 1 = the top suggestion
    chunk_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(300))
    confidence: Mapped[float] = mapped_column(Float)
    inserted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    verdict: Mapped[SuggestionVerdict | None] = mapped_column(
        chinese_enum(SuggestionVerdict, "suggestion_verdict")
    )
    verdict_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConversationTurn(Base):
    """One resident message and how the assistant dealt with it, for daily counts and hot topics.

    `conversation` is a keyed hash of the sender id (counts conversations without naming anyone); the
    question is stored masked.
    """

    __tablename__ = "conversation_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    conversation: Mapped[str] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[TurnOutcome] = mapped_column(chinese_enum(TurnOutcome, "turn_outcome"))
    band: Mapped[str | None] = mapped_column(String(16))  # the answer's confidence band, when it has one
    question: Mapped[str] = mapped_column(String(500))
    answer_chunk_id: Mapped[str | None] = mapped_column(String(128))  # the passage that answered
    answer_source: Mapped[str | None] = mapped_column(String(300))
    ticket_number: Mapped[str | None] = mapped_column(String(32))


class QueuedMessage(Base):
    """A resident's message the bot could not take (Rasa or the action server down), under the reference the
    resident was given. Replayed to the bot once it answers again; the answer then goes to the resident (WeChat:
    the customer-service API; web: the page's next poll). The text is stored masked; `reply_to` holds the sender
    id sealed (casework.sealing) only until the answer is delivered, `sender` its keyed hash for good."""

    __tablename__ = "queued_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(128), index=True)
    reply_to: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[QueuedMessageStatus] = mapped_column(
        chinese_enum(QueuedMessageStatus, "queued_message_status"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    replayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Feedback(Base):
    """A resident's 👍/👎 on an answer in the web chat; texts masked, the sender as its keyed hash."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    sender: Mapped[str] = mapped_column(String(128))
    rating: Mapped[str] = mapped_column(String(8))  # "up" / "down"
    question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(String(500))


class UndeliverableAnswer(Base):
    """An answer WeChat would not deliver (45015 reply window over, 45047 limit, API down): staff follow up."""

    __tablename__ = "undeliverable_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    sender: Mapped[str] = mapped_column(String(128))
    ticket_number: Mapped[str | None] = mapped_column(String(32))
    errcode: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
