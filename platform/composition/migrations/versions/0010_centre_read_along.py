"""Centres: whether coordinators may read along with chats (placeholder: the read-along
helper fills this in)

Revision ID: 0010_centre_read_along
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_centre_read_along"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
