"""Queries for the editorial workflow: tools by id or any slug they ever had, the console's
lists, version history, and the slugs already taken."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from toolbox.catalogue.models import Tool, ToolSlug, ToolStatus, ToolVersion


@dataclass(frozen=True)
class VersionRow:
    number: int
    action: str
    changed_at: datetime
    changed_by: str | None
    note: str | None


def _escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards (and the escape character) taken literally."""
    return re.sub(r"([\\%_])", r"\\\1", text)


async def tool_by_id(
    session: AsyncSession, tool_id: uuid.UUID, *, for_update: bool = False
) -> Tool | None:
    statement = select(Tool).where(Tool.id == tool_id)
    if for_update:
        # Versions are numbered per tool: concurrent changes wait for each other.
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def find_by_slug(session: AsyncSession, slug: str) -> Tool | None:
    """By any slug the tool ever had."""
    former = select(ToolSlug.tool_id).where(ToolSlug.slug == slug)
    statement = (
        select(Tool).where(or_(Tool.slug == slug, Tool.id.in_(former))).limit(1).with_for_update()
    )
    return await session.scalar(statement)


async def list_tools(
    session: AsyncSession, *, status: str | None = None, query: str = ""
) -> Sequence[Tool]:
    statement = select(Tool).order_by(func.lower(Tool.title), Tool.id)
    if status:
        statement = statement.where(Tool.status == status)
    if query.strip():
        pattern = func.unaccent(f"%{_escape_like(query.strip())}%")
        statement = statement.where(func.unaccent(Tool.title).ilike(pattern, escape="\\"))
    return (await session.scalars(statement)).all()


async def published_not_reviewed_since(session: AsyncSession, cutoff: date) -> Sequence[Tool]:
    """Published tools last reviewed before ``cutoff`` (or never), the longest ago first."""
    statement = (
        select(Tool)
        .where(
            Tool.status == ToolStatus.published.value,
            or_(Tool.reviewed_on.is_(None), Tool.reviewed_on < cutoff),
        )
        .order_by(Tool.reviewed_on.asc().nulls_first(), func.lower(Tool.title))
    )
    return (await session.scalars(statement)).all()


async def list_versions(session: AsyncSession, tool_id: uuid.UUID) -> list[VersionRow]:
    statement = (
        select(ToolVersion, StaffAccount.full_name)
        .outerjoin(StaffAccount, StaffAccount.id == ToolVersion.changed_by)
        .where(ToolVersion.tool_id == tool_id)
        .order_by(ToolVersion.number.desc())
    )
    return [
        VersionRow(v.number, v.action, v.changed_at, name, v.note)
        for v, name in (await session.execute(statement)).all()
    ]


async def slugs_taken(session: AsyncSession, wanted: str) -> dict[str, uuid.UUID]:
    """``wanted`` and ``wanted-…`` wherever a tool has (or once had) them: slug -> tool."""
    pattern = _escape_like(wanted) + "-%"
    taken: dict[str, uuid.UUID] = {}
    for column, owner in ((ToolSlug.slug, ToolSlug.tool_id), (Tool.slug, Tool.id)):
        rows = await session.execute(
            select(column, owner).where(or_(column == wanted, column.like(pattern, escape="\\")))
        )
        taken.update({slug: owner_id for slug, owner_id in rows.all()})
    return taken


async def slugs_of(session: AsyncSession, tool_id: uuid.UUID) -> set[str]:
    slugs = await session.scalars(select(ToolSlug.slug).where(ToolSlug.tool_id == tool_id))
    return set(slugs.all())


async def last_version_number(session: AsyncSession, tool_id: uuid.UUID) -> int | None:
    return await session.scalar(
        select(func.max(ToolVersion.number)).where(ToolVersion.tool_id == tool_id)
    )
