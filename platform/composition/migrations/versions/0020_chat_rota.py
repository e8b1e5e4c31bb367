"""the chat duty rota: shifts per opening slot and swaps

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _staff_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["staff_accounts.id"],
        name=op.f(f"fk_{table}_{column}_staff_accounts"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "chat_rota_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "starts_at < ends_at", name=op.f("ck_chat_rota_shifts_starts_before_ends")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_chat_rota_shifts_centre_id_centres"),
            ondelete="CASCADE",
        ),
        _staff_fk("chat_rota_shifts", "staff_id", "CASCADE"),
        _staff_fk("chat_rota_shifts", "created_by", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_rota_shifts")),
        sa.UniqueConstraint(
            "staff_id", "starts_at", name=op.f("uq_chat_rota_shifts_staff_id_starts_at")
        ),
    )
    for column in ("centre_id", "staff_id", "starts_at"):
        op.create_index(
            op.f(f"ix_chat_rota_shifts_{column}"), "chat_rota_shifts", [column], unique=False
        )
    op.create_table(
        "chat_rota_swaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("colleague_id", sa.Uuid(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counter_shift_id", sa.Integer(), nullable=True),
        sa.Column("counter_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counter_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('take_over', 'swap')", name=op.f("ck_chat_rota_swaps_known_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'cancelled', 'void')",
            name=op.f("ck_chat_rota_swaps_known_status"),
        ),
        sa.CheckConstraint(
            "requester_id <> colleague_id", name=op.f("ck_chat_rota_swaps_not_oneself")
        ),
        _staff_fk("chat_rota_swaps", "requester_id", "CASCADE"),
        _staff_fk("chat_rota_swaps", "colleague_id", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["chat_rota_shifts.id"],
            name=op.f("fk_chat_rota_swaps_shift_id_chat_rota_shifts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["counter_shift_id"],
            ["chat_rota_shifts.id"],
            name=op.f("fk_chat_rota_swaps_counter_shift_id_chat_rota_shifts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_rota_swaps")),
    )
    for column in ("requester_id", "colleague_id", "shift_id"):
        op.create_index(
            op.f(f"ix_chat_rota_swaps_{column}"), "chat_rota_swaps", [column], unique=False
        )


def downgrade() -> None:
    op.drop_table("chat_rota_swaps")
    op.drop_table("chat_rota_shifts")
