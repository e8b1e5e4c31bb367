"""Tools and help sources, their old slugs (stable links), and every version of each.

Search uses a generated ``tsvector`` in the ``clb_dutch`` text search configuration
(Dutch stemming behind ``unaccent``, created by the migration) and trigram indexes for
typo tolerance.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Computed,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow


class ToolStatus(enum.StrEnum):
    draft = "draft"
    in_review = "in_review"
    published = "published"
    archived = "archived"


class LinkStatus(enum.StrEnum):
    """The link checker's verdict on a tool's ``url`` (see ``toolbox.link_checker``)."""

    ok = "ok"
    failing = "failing"
    broken = "broken"


class Kind(enum.StrEnum):
    oefening = "oefening"
    werkblad = "werkblad"
    video = "video"
    website = "website"
    app = "app"
    brochure = "brochure"
    hulplijn = "hulplijn"
    chat = "chat"


THEMES = (
    "faalangst",
    "studiekeuze",
    "motivatie",
    "gezondheidsbevordering",
    "welbevinden",
    "pesten",
    "stress-en-examens",
    "relaties-en-seksualiteit",
    "thuissituatie",
    "rouw",
    "middelengebruik",
    "online-veiligheid",
    "leren-leren",
    "mentale-gezondheid",
    "zelfdoding-preventie",
    "geld",
    "diversiteit",
)
AUDIENCES = ("leerling", "ouder", "clb-medewerker", "school", "netwerkpartner")
LEVELS = ("basis", "secundair-1", "secundair-2", "secundair-3", "hoger")

# Weighted: a word in the title counts more than one in the summary, and so on.
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(search_terms, '')), 'B') || "
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(description, '')), 'C') || "
    "setweight(to_tsvector('clb_dutch'::regconfig, coalesce(provider, '')), 'D')"
)


class Tool(Base):
    __tablename__ = "toolbox_tools"
    __table_args__ = (
        Index("ix_toolbox_tools_search", "search_vector", postgresql_using="gin"),
        Index(
            "ix_toolbox_tools_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        Index("ix_toolbox_tools_themes", "themes", postgresql_using="gin"),
        Index("ix_toolbox_tools_audiences", "audiences", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # Extra words people search with (e.g. themes in words), kept out of the page text.
    search_terms: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    audiences: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    levels: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list)
    # {"fr": {"summary": …, "description": …}, …}: the text in other interface languages.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    url: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(40))
    hours: Mapped[str | None] = mapped_column(String(200))
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ToolStatus.draft.value, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    # The link checker's verdict on ``url``.
    link_status: Mapped[str | None] = mapped_column(String(20))
    link_checked_at: Mapped[datetime | None]
    link_error: Mapped[str | None] = mapped_column(String(200))
    search_vector: Mapped[Any] = mapped_column(TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True))


class ToolSlug(Base):
    """Every slug a tool ever had: an old link keeps working after a rename (redirect)."""

    __tablename__ = "toolbox_slugs"

    slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    tool_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("toolbox_tools.id", ondelete="CASCADE"), index=True
    )


class ToolVersion(Base):
    """A snapshot per change: who did what, when, and what the tool looked like after."""

    __tablename__ = "toolbox_versions"
    __table_args__ = (UniqueConstraint("tool_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("toolbox_tools.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))
    changed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
