"""production: the gateway's journals become tables (queued messages, feedback, undeliverable answers); tickets get
an idempotency key so a retried or spooled opening never makes two

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED_MESSAGE_STATUSES = ("待重放", "待送达", "已送达", "无法送达")


def upgrade() -> None:
    op.create_table(
        "queued_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("reply_to", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *QUEUED_MESSAGE_STATUSES,
                name="queued_message_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("replayed_at", sa.DateTime(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queued_messages")),
        sa.UniqueConstraint("reference", name=op.f("uq_queued_messages_reference")),
    )
    with op.batch_alter_table("queued_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queued_messages_sender"), ["sender"], unique=False)
        batch_op.create_index(batch_op.f("ix_queued_messages_status"), ["status"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("rating", sa.String(length=8), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_created_at"), ["created_at"], unique=False)

    op.create_table(
        "undeliverable_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("ticket_number", sa.String(length=32), nullable=True),
        sa.Column("errcode", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_undeliverable_answers")),
    )
    with op.batch_alter_table("undeliverable_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_undeliverable_answers_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_tickets_request_key"), ["request_key"])


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tickets_request_key"), type_="unique")
        batch_op.drop_column("request_key")
    with op.batch_alter_table("undeliverable_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_undeliverable_answers_created_at"))
    op.drop_table("undeliverable_answers")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_created_at"))
    op.drop_table("feedback")
    with op.batch_alter_table("queued_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queued_messages_status"))
        batch_op.drop_index(batch_op.f("ix_queued_messages_sender"))
    op.drop_table("queued_messages")
