"""ORM models (SQLAlchemy 2, typed). The schema itself is created by the Alembic migrations in `migrations/`.

Money is stored in fen (integer cents) so sums are exact on every backend; the domain layer shows yuan.
ID numbers and phones are stored in full (lookups need them); `hotline.privacy` masks them wherever shown.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
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
    ClaimState,
    ContributionState,
    EnrolmentState,
    LookupKind,
    LookupOutcome,
    OffsiteFilingState,
    OffsiteFilingType,
    Rating,
    Scheme,
    TicketCategory,
    TicketStatus,
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
    sender_id: Mapped[str] = mapped_column(String(128))
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

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
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
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
