"""security: identity attempts per person / conversation / client, sealed ID numbers, sealed reply addresses

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

- `identity_attempts`: every identity verification, with keyed hashes of the ID number tried, the sender and
  the client IP, so lockouts survive `/restart` and new sessions (casework.verification);
- `sealed_id_numbers`: ID numbers the gateway masked before Rasa, encrypted for a few minutes (casework.sealed_ids);
- `tickets.reply_to`, `ticket_messages.reply_to`: the WeChat openid a pushed reply goes to, sealed; the sender id
  beside it becomes a keyed hash (existing rows keep their value: a raw id never matches a new lookup, so old
  tickets stay in the desk but are no longer tied to a chat).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=32), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_attempts")),
    )
    with op.batch_alter_table("identity_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_attempts_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_attempts_target"), ["target"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_attempts_sender"), ["sender"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_attempts_client"), ["client"], unique=False)

    op.create_table(
        "sealed_id_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("masked", sa.String(length=24), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_id_numbers")),
    )
    with op.batch_alter_table("sealed_id_numbers", schema=None) as batch_op:
        batch_op.create_index("ix_sealed_id_numbers_lookup", ["sender", "masked"], unique=False)
        batch_op.create_index(batch_op.f("ix_sealed_id_numbers_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.Text(), nullable=True))
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
    op.drop_table("sealed_id_numbers")
    op.drop_table("identity_attempts")
