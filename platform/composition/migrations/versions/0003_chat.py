"""chat conversations and messages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:24:39.954030
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("visitor_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("nickname", sa.String(length=40), nullable=False),
        sa.Column("who", sa.String(length=20), nullable=False),
        sa.Column("age_band", sa.String(length=20), nullable=True),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Uuid(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("time_limit_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=20), nullable=True),
        sa.Column("visitor_delivered_seq", sa.Integer(), nullable=False),
        sa.Column("visitor_read_seq", sa.Integer(), nullable=False),
        sa.Column("counsellor_delivered_seq", sa.Integer(), nullable=False),
        sa.Column("counsellor_read_seq", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.String(length=500), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_conversations_rating_range")),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["staff_accounts.id"],
            name=op.f("fk_conversations_counsellor_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
            name=op.f("fk_conversations_visitor_id_visitors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(
        op.f("ix_conversations_counsellor_id"), "conversations", ["counsellor_id"], unique=False
    )
    op.create_index(
        "ix_conversations_queue",
        "conversations",
        ["priority", "created_at"],
        unique=False,
        postgresql_where=sa.text("status = 'waiting'"),
    )
    op.create_index(
        "uq_conversations_open_per_visitor",
        "conversations",
        ["visitor_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('waiting', 'active')"),
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("client_msg_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_accounts.id"],
            name=op.f("fk_chat_messages_author_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_chat_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint(
            "conversation_id",
            "sender",
            "client_msg_id",
            name=op.f("uq_chat_messages_conversation_id_sender_client_msg_id"),
        ),
        sa.UniqueConstraint(
            "conversation_id", "seq", name=op.f("uq_chat_messages_conversation_id_seq")
        ),
    )


def downgrade() -> None:
    op.drop_table("chat_messages")
    op.drop_index(
        "uq_conversations_open_per_visitor",
        table_name="conversations",
        postgresql_where=sa.text("status IN ('waiting', 'active')"),
    )
    op.drop_index(
        "ix_conversations_queue",
        table_name="conversations",
        postgresql_where=sa.text("status = 'waiting'"),
    )
    op.drop_index(op.f("ix_conversations_counsellor_id"), table_name="conversations")
    op.drop_table("conversations")
