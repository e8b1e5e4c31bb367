"""toolbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:52:21.976257
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from importlib.resources import files

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# As in toolbox.models (copied: a migration must not change when the model does later).
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(search_terms, '')), 'B') || "
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(description, '')), 'C') || "
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(provider, '')), 'D')"
)


def upgrade() -> None:
    # Dutch search that ignores accents: unaccent before the Dutch stemmer. Typo tolerance
    # comes from trigrams.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE TEXT SEARCH CONFIGURATION clb_dutch (COPY = dutch)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION clb_dutch "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, dutch_stem"
    )
    op.create_table(
        "toolbox_tools",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("search_terms", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("themes", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("audiences", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("levels", sa.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("languages", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("hours", sa.String(length=200), nullable=True),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("link_status", sa.String(length=20), nullable=True),
        sa.Column("link_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_error", sa.String(length=200), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                SEARCH_DOCUMENT,
                persisted=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["staff_accounts.id"],
            name=op.f("fk_toolbox_tools_updated_by_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_toolbox_tools")),
        sa.UniqueConstraint("slug", name=op.f("uq_toolbox_tools_slug")),
    )
    op.create_index(
        "ix_toolbox_tools_audiences",
        "toolbox_tools",
        ["audiences"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_toolbox_tools_search",
        "toolbox_tools",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(op.f("ix_toolbox_tools_status"), "toolbox_tools", ["status"], unique=False)
    op.create_index(
        "ix_toolbox_tools_themes", "toolbox_tools", ["themes"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_toolbox_tools_title_trgm",
        "toolbox_tools",
        ["title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_table(
        "toolbox_slugs",
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("tool_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["toolbox_tools.id"],
            name=op.f("fk_toolbox_slugs_tool_id_toolbox_tools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_toolbox_slugs")),
    )
    op.create_index(op.f("ix_toolbox_slugs_tool_id"), "toolbox_slugs", ["tool_id"], unique=False)
    op.create_table(
        "toolbox_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["staff_accounts.id"],
            name=op.f("fk_toolbox_versions_changed_by_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["toolbox_tools.id"],
            name=op.f("fk_toolbox_versions_tool_id_toolbox_tools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_toolbox_versions")),
        sa.UniqueConstraint("tool_id", "number", name=op.f("uq_toolbox_versions_tool_id_number")),
    )
    op.create_index(
        op.f("ix_toolbox_versions_tool_id"), "toolbox_versions", ["tool_id"], unique=False
    )

    _load_seed_catalogue()


def _load_seed_catalogue() -> None:
    """The catalogue the platform starts with: real Flemish and Belgian tools, described by
    us, published, each with its first version."""
    items = json.loads((files("toolbox") / "seed_catalogue.json").read_text(encoding="utf-8"))
    tools = sa.table(
        "toolbox_tools",
        *(
            sa.column(name)
            for name in (
                "id",
                "slug",
                "title",
                "summary",
                "description",
                "search_terms",
                "kind",
                "themes",
                "audiences",
                "levels",
                "languages",
                "url",
                "provider",
                "phone",
                "hours",
                "reviewed_on",
                "status",
                "created_at",
                "updated_at",
            )
        ),
    )
    slugs = sa.table("toolbox_slugs", sa.column("slug"), sa.column("tool_id"))
    versions = sa.table(
        "toolbox_versions",
        sa.column("tool_id"),
        sa.column("number"),
        sa.column("action"),
        sa.column("changed_at"),
        sa.column("note"),
        sa.column("snapshot", postgresql.JSONB()),
    )
    now = datetime.now(UTC)
    rows, slug_rows, version_rows = [], [], []
    for item in items:
        tool_id = uuid.uuid4()
        row = {
            **{
                key: item[key]
                for key in (
                    "slug",
                    "title",
                    "summary",
                    "description",
                    "kind",
                    "themes",
                    "audiences",
                    "levels",
                    "languages",
                    "url",
                    "provider",
                    "phone",
                    "hours",
                )
            },
            "id": tool_id,
            "search_terms": " ".join(t.replace("-", " ") for t in item["themes"]),
            "reviewed_on": date.fromisoformat(item["reviewed_on"]),
            "status": "published",
            "created_at": now,
            "updated_at": now,
        }
        rows.append(row)
        slug_rows.append({"slug": item["slug"], "tool_id": tool_id})
        version_rows.append(
            {
                "tool_id": tool_id,
                "number": 1,
                "action": "imported",
                "changed_at": now,
                "note": "seed catalogue",
                "snapshot": item,
            }
        )
    op.bulk_insert(tools, rows)
    op.bulk_insert(slugs, slug_rows)
    op.bulk_insert(versions, version_rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_toolbox_versions_tool_id"), table_name="toolbox_versions")
    op.drop_table("toolbox_versions")
    op.drop_index(op.f("ix_toolbox_slugs_tool_id"), table_name="toolbox_slugs")
    op.drop_table("toolbox_slugs")
    op.drop_index(
        "ix_toolbox_tools_title_trgm",
        table_name="toolbox_tools",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.drop_index("ix_toolbox_tools_themes", table_name="toolbox_tools", postgresql_using="gin")
    op.drop_index(op.f("ix_toolbox_tools_status"), table_name="toolbox_tools")
    op.drop_index("ix_toolbox_tools_search", table_name="toolbox_tools", postgresql_using="gin")
    op.drop_index("ix_toolbox_tools_audiences", table_name="toolbox_tools", postgresql_using="gin")
    op.drop_table("toolbox_tools")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS clb_dutch")
