"""agent desk: agents and their sessions, ticket assignment, notes, 回访 tasks, 督办 events, assist marks, turn log

Ratings change from 好/中/差 to the 12345 wording 满意/基本满意/不满意 (stored rows are translated both ways).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RATINGS = ("好", "中", "差")
NEW_RATINGS = ("满意", "基本满意", "不满意")


def _rating_type(values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name="ticket_rating", native_enum=False, create_constraint=True, length=16)


def _change_ratings(old: Sequence[str], new: Sequence[str]) -> None:
    """Swap the CHECK-constrained vocabulary: unconstrained text, translate the rows, constrain again."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("rating", existing_type=_rating_type(old), type_=sa.String(length=16))
    tickets = sa.table("tickets", sa.column("rating", sa.String))
    for before, after in zip(old, new, strict=True):
        op.execute(tickets.update().where(tickets.c.rating == before).values(rating=after))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("rating", existing_type=sa.String(length=16), type_=_rating_type(new))


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum("坐席", "主管", name="agent_role", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )
    op.create_table(
        "conversation_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("conversation", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "已回答",
                "低置信回答",
                "未找到答案",
                "转工单",
                "其他",
                name="turn_outcome",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("band", sa.String(length=16), nullable=True),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("answer_chunk_id", sa.String(length=128), nullable=True),
        sa.Column("answer_source", sa.String(length=300), nullable=True),
        sa.Column("ticket_number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_turns")),
    )
    with op.batch_alter_table("conversation_turns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_turns_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_sessions_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_sessions_token_hash")),
    )
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_sessions_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "assist_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shown_at", sa.DateTime(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("chunk_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum(
                "有用",
                "错误",
                name="suggestion_verdict",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("verdict_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_assist_suggestions_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_assist_suggestions_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_suggestions")),
    )
    with op.batch_alter_table("assist_suggestions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assist_suggestions_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assist_suggestions_shown_at"), ["shown_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_assist_suggestions_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "callback_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("done_by", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("supervised_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_callback_tasks_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_tasks")),
    )
    with op.batch_alter_table("callback_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_tasks_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_callback_tasks_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "supervision_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "超时未答复",
                "回访超时",
                name="supervision_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_supervision_events_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_events")),
    )
    with op.batch_alter_table("supervision_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_events_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_events_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_notes_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_notes")),
    )
    with op.batch_alter_table("ticket_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_notes_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "流转",
                    "认领",
                    "改派",
                    "退回",
                    "合并",
                    "评价",
                    "回访",
                    "督办",
                    name="ticket_event_kind",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                nullable=False,
                server_default="流转",
            )
        )

    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "答复",
                    "评价邀请",
                    "回访反馈",
                    name="ticket_message_kind",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                nullable=False,
                server_default="答复",
            )
        )

    _change_ratings(OLD_RATINGS, NEW_RATINGS)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_merged_into_id_tickets"),
            "tickets",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_assignee_id_agents"),
            "agents",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tickets_assignee_id_agents"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_tickets_merged_into_id_tickets"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_tickets_assignee_id"))
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("rated_at")

    _change_ratings(NEW_RATINGS, OLD_RATINGS)

    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        # SQLite's batch copy would keep the column's CHECK constraint after the column is gone.
        batch_op.drop_constraint(batch_op.f("ck_ticket_messages_ticket_message_kind"), type_="check")
        batch_op.drop_column("kind")

    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        # SQLite's batch copy would keep the column's CHECK constraint after the column is gone.
        batch_op.drop_constraint(batch_op.f("ck_ticket_events_ticket_event_kind"), type_="check")
        batch_op.drop_column("kind")

    with op.batch_alter_table("ticket_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_notes_ticket_id"))

    op.drop_table("ticket_notes")
    with op.batch_alter_table("supervision_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_events_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_events_raised_at"))

    op.drop_table("supervision_events")
    with op.batch_alter_table("callback_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_tasks_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_callback_tasks_due_at"))

    op.drop_table("callback_tasks")
    with op.batch_alter_table("assist_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_suggestions_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_assist_suggestions_shown_at"))
        batch_op.drop_index(batch_op.f("ix_assist_suggestions_agent_id"))

    op.drop_table("assist_suggestions")
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_sessions_agent_id"))

    op.drop_table("agent_sessions")
    with op.batch_alter_table("conversation_turns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_turns_occurred_at"))

    op.drop_table("conversation_turns")
    op.drop_table("agents")
