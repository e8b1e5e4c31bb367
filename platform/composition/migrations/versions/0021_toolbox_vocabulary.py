"""the toolbox's theme vocabularies: the words pupils and parents use, per theme and language

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from importlib.resources import files

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "toolbox_theme_words",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("theme", sa.String(40), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("word", sa.String(80), nullable=False),
        sa.Column("normalised", sa.String(80), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("theme", "language", "normalised"),
    )
    op.create_index("ix_toolbox_theme_words_theme", "toolbox_theme_words", ["theme"])
    op.create_index("ix_toolbox_theme_words_normalised", "toolbox_theme_words", ["normalised"])
    # How often the search showed the crisis help box, per day: a count, never the query.
    op.create_table(
        "toolbox_safety_net_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("shown", sa.Integer(), nullable=False, server_default="0"),
    )
    _seed_vocabulary()


def _fold(text: str) -> str:
    """Frozen copy of toolbox.search.vocabulary.normalise_word (as it was at this revision)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", plain))


def _seed_vocabulary() -> None:
    """The shipped words of every theme (toolbox/seed_vocabulary.json), source "seed"."""
    data = json.loads((files("toolbox") / "seed_vocabulary.json").read_text(encoding="utf-8"))
    table = sa.table(
        "toolbox_theme_words",
        sa.column("theme", sa.String),
        sa.column("language", sa.String),
        sa.column("word", sa.String),
        sa.column("normalised", sa.String),
        sa.column("source", sa.String),
    )
    rows: dict[tuple[str, str, str], dict[str, str]] = {}
    for theme, languages in data.items():
        for language, words in languages.items():
            for word in words:
                normalised = _fold(word)
                if normalised:
                    rows.setdefault(
                        (theme, language, normalised),
                        {
                            "theme": theme,
                            "language": language,
                            "word": word,
                            "normalised": normalised,
                            "source": "seed",
                        },
                    )
    op.bulk_insert(table, list(rows.values()))


def downgrade() -> None:
    op.drop_table("toolbox_safety_net_days")
    op.drop_table("toolbox_theme_words")
