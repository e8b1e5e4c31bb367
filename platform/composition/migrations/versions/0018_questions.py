"""Stel je vraag: anonymous questions that can wait

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("who", sa.String(20), nullable=True),
        sa.Column("age_band", sa.String(20), nullable=True),
        sa.Column("topic", sa.String(20), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("awaiting_answer", sa.Boolean(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue_noticed_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flag_term", sa.String(100), nullable=True),
        sa.Column(
            "claimed_by",
            sa.Uuid(),
            sa.ForeignKey(
                "staff_accounts.id",
                ondelete="SET NULL",
                name=op.f("fk_questions_claimed_by_staff_accounts"),
            ),
            nullable=True,
        ),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "closed_by",
            sa.Uuid(),
            sa.ForeignKey(
                "staff_accounts.id",
                ondelete="SET NULL",
                name=op.f("fk_questions_closed_by_staff_accounts"),
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("last_seq >= 0", name=op.f("ck_questions_seq_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_questions_token_hash")),
    )
    op.create_index(
        "ix_questions_open_due",
        "questions",
        ["due_at"],
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("ix_questions_closed_at", "questions", ["closed_at"])
    op.create_table(
        "question_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(
            "question_id",
            sa.Uuid(),
            sa.ForeignKey(
                "questions.id",
                ondelete="CASCADE",
                name=op.f("fk_question_messages_question_id_questions"),
            ),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(12), nullable=False),
        sa.Column(
            "staff_id",
            sa.Uuid(),
            sa.ForeignKey(
                "staff_accounts.id",
                ondelete="SET NULL",
                name=op.f("fk_question_messages_staff_id_staff_accounts"),
            ),
            nullable=True,
        ),
        sa.Column("author_name", sa.String(80), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_messages")),
        sa.UniqueConstraint("question_id", "seq", name=op.f("uq_question_messages_seq")),
        sa.CheckConstraint(
            "author IN ('person','counsellor')", name=op.f("ck_question_messages_known_author")
        ),
        sa.CheckConstraint("seq > 0", name=op.f("ck_question_messages_seq_positive")),
    )
    op.create_index("ix_question_messages_question_id", "question_messages", ["question_id"])


def downgrade() -> None:
    op.drop_index("ix_question_messages_question_id", table_name="question_messages")
    op.drop_table("question_messages")
    op.drop_index("ix_questions_closed_at", table_name="questions")
    op.drop_index("ix_questions_open_due", table_name="questions")
    op.drop_table("questions")
