"""Queries for the public catalogue: filtered, searched and sorted lists, and lookups by slug."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, cast, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from toolbox.catalogue.languages import theme_named_in
from toolbox.catalogue.models import LinkStatus, Tool, ToolSlug, ToolStatus

MAX_TERMS = 8
# Words shorter than this are not typo-matched: too many false friends.
MIN_FUZZY_LENGTH = 4


@dataclass(frozen=True)
class ToolFilter:
    query: str = ""
    themes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    # "In mijn taal": tools whose own material exists in one of these languages.
    languages: tuple[str, ...] = ()
    sort: str = "relevantie"  # relevantie | titel | nieuw
    statuses: tuple[str, ...] = field(default=(ToolStatus.published.value,))


def _terms(query: str) -> list[str]:
    return re.findall(r"\w+", query.lower())[:MAX_TERMS]


def _prefix_query(terms: list[str]) -> ColumnElement[object]:
    """Every word, stemmed in Dutch and without accents, as a prefix: "faalangstig" finds
    faalangst, "studiek" finds studiekeuze."""
    text_query = " & ".join(f"{term}:*" for term in terms)
    return func.to_tsquery(cast(literal("clb_dutch"), REGCONFIG), text_query)


def _conditions(spec: ToolFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Tool.status.in_(spec.statuses)]
    if spec.themes:
        conditions.append(Tool.themes.overlap(list(spec.themes)))
    if spec.audiences:
        conditions.append(Tool.audiences.overlap(list(spec.audiences)))
    if spec.levels:
        # No levels means "for every level".
        conditions.append(or_(Tool.levels.overlap(list(spec.levels)), Tool.levels == []))
    if spec.kinds:
        conditions.append(Tool.kind.in_(spec.kinds))
    if spec.languages:
        conditions.append(Tool.languages.overlap(list(spec.languages)))
    return conditions


async def search_tools(
    session: AsyncSession, spec: ToolFilter, *, limit: int = 30, offset: int = 0
) -> tuple[Sequence[Tool], int]:
    """One page of matching tools and how many match in all.

    Words are matched through the full-text index. Only when that finds nothing is the
    query taken for a theme named in another language, and then for a typo, matched
    against titles by trigram similarity. Keeping them apart lets each use its own index
    (an OR of them would scan the whole table).
    """
    conditions = _conditions(spec)
    terms = _terms(spec.query)
    if not terms:
        return await _page(session, conditions, _order(spec, None), limit, offset)
    tsquery = _prefix_query(terms)
    rank = func.ts_rank_cd(Tool.search_vector, tsquery)
    found = await _page(
        session,
        [*conditions, Tool.search_vector.op("@@")(tsquery)],
        _order(spec, rank),
        limit,
        offset,
    )
    if found[1]:
        return found
    # Nothing word for word: perhaps the query names a theme in another language
    # ("bullying", "harcèlement"); then that theme's tools.
    theme = theme_named_in(spec.query)
    if theme is not None:
        return await _page(
            session, [*conditions, Tool.themes.contains([theme])], _order(spec, None), limit, offset
        )
    phrase = " ".join(terms)
    if len(phrase) < MIN_FUZZY_LENGTH:
        return found
    # Nothing word for word: perhaps a typo ("onderwijskeizer").
    similarity = func.word_similarity(phrase, Tool.title)
    return await _page(
        session,
        [*conditions, literal(phrase).op("<%")(Tool.title)],
        _order(spec, similarity),
        limit,
        offset,
    )


def _order(spec: ToolFilter, relevance: ColumnElement[float] | None) -> list[ColumnElement[Any]]:
    title = func.lower(Tool.title)
    if spec.sort == "nieuw":
        return [Tool.updated_at.desc(), title]
    if spec.sort == "relevantie" and relevance is not None:
        return [relevance.desc(), title]
    return [title]


async def _page(
    session: AsyncSession,
    conditions: list[ColumnElement[bool]],
    order: list[ColumnElement[Any]],
    limit: int,
    offset: int,
) -> tuple[Sequence[Tool], int]:
    query = select(Tool, func.count().over()).where(and_(true(), *conditions)).order_by(*order)
    rows = (await session.execute(query.limit(limit).offset(offset))).all()
    total = int(rows[0][1]) if rows else 0
    return [row[0] for row in rows], total


async def tool_by_slug(session: AsyncSession, slug: str) -> Tool | None:
    return await session.scalar(select(Tool).where(Tool.slug == slug))


async def tool_by_old_slug(session: AsyncSession, slug: str) -> Tool | None:
    """The tool that once had this slug (for a redirect after a rename)."""
    return await session.scalar(
        select(Tool).join(ToolSlug, ToolSlug.tool_id == Tool.id).where(ToolSlug.slug == slug)
    )


async def tool_by_id(session: AsyncSession, tool_id: uuid.UUID) -> Tool | None:
    return await session.get(Tool, tool_id)


async def counts_by_theme(session: AsyncSession) -> dict[str, int]:
    theme = func.unnest(Tool.themes).label("theme")
    rows = await session.execute(
        select(theme, func.count()).where(Tool.status == ToolStatus.published.value).group_by(theme)
    )
    return {str(name): int(count) for name, count in rows.all()}


# --- The link checker ----------------------------------------------------------------------


def due_for_check(
    checked_before: datetime, failing_checked_before: datetime
) -> ColumnElement[bool]:
    """Published tools with a url never checked, or last checked before ``checked_before``
    (before ``failing_checked_before`` when the last check failed)."""
    return and_(
        Tool.status == ToolStatus.published.value,
        Tool.url.is_not(None),
        Tool.url != "",
        or_(
            Tool.link_checked_at.is_(None),
            Tool.link_checked_at <= checked_before,
            and_(
                Tool.link_status == LinkStatus.failing.value,
                Tool.link_checked_at <= failing_checked_before,
            ),
        ),
    )


async def links_due(
    session: AsyncSession,
    *,
    checked_before: datetime,
    failing_checked_before: datetime,
    batch: int,
) -> Sequence[tuple[uuid.UUID, str | None]]:
    """Up to ``batch`` (tool id, url) due for a check, the longest unchecked first."""
    rows = await session.execute(
        select(Tool.id, Tool.url)
        .where(due_for_check(checked_before, failing_checked_before))
        .order_by(Tool.link_checked_at.asc().nulls_first(), Tool.id)
        .limit(batch)
    )
    return [(tool_id, url) for tool_id, url in rows.all()]


async def record_link_verdict(
    session: AsyncSession,
    tool_id: uuid.UUID,
    url: str,
    *,
    ok: bool,
    error: str | None,
    checked_at: datetime,
) -> str | None:
    """Write the verdict unless the url changed meanwhile; the new status (or None)."""
    if ok:
        status: ColumnElement[str] | str = LinkStatus.ok.value
    else:
        # Two failures in a row make a link broken: one bad night does not.
        status = case(
            (
                Tool.link_status.in_([LinkStatus.failing.value, LinkStatus.broken.value]),
                LinkStatus.broken.value,
            ),
            else_=LinkStatus.failing.value,
        )
    return await session.scalar(
        update(Tool)
        .where(Tool.id == tool_id, Tool.url == url)
        .values(link_status=status, link_error=error, link_checked_at=checked_at)
        .returning(Tool.link_status)
        .execution_options(synchronize_session=False)
    )
