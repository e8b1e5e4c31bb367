"""Toolbox: a tool's summary and description in other interface languages, filled for the
help lines and the most-used tools of the seed catalogue

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.resources import files

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "toolbox_tools",
        sa.Column(
            "translations",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    texts = json.loads((files("toolbox") / "seed_translations.json").read_text(encoding="utf-8"))
    update = sa.text(
        "UPDATE toolbox_tools SET translations = CAST(:translations AS jsonb) WHERE slug = :slug"
    )
    for slug, translations in texts.items():
        op.execute(update.bindparams(slug=slug, translations=json.dumps(translations)))


def downgrade() -> None:
    op.drop_column("toolbox_tools", "translations")
