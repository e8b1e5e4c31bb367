"""Queries for the public catalogue: filtered, searched and sorted lists, and lookups by slug."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from toolbox.catalogue import ranking
from toolbox.catalogue.models import LinkStatus, Tool, ToolSlug, ToolStatus
from toolbox.search.reading import Reading, read_query
from toolbox.search.vocabulary import dictionary_words, vocabulary_for

MAX_TERMS = 12
PREFIX_LENGTH = 4
TRUNCATE_LENGTH = 8
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

    @property
    def filtered(self) -> bool:
        """Whether a filter besides the status narrows the tools."""
        return bool(self.themes or self.audiences or self.levels or self.kinds or self.languages)


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


@dataclass(frozen=True)
class SearchResult:
    """One page of a search, how many match in all, and how the query was read (None when
    there was no query): the themes it named, its corrected form."""

    tools: Sequence[Tool]
    total: int
    reading: Reading | None = None

    @property
    def theme_matched(self) -> bool:
        return bool(self.reading and self.reading.themes)


async def search_tools(
    session: AsyncSession, spec: ToolFilter, *, limit: int = 30, offset: int = 0
) -> tuple[Sequence[Tool], int]:
    """One page of matching tools and how many match in all (see :func:`search_catalogue`)."""
    result = await search_catalogue(session, spec, limit=limit, offset=offset)
    return result.tools, result.total


async def search_catalogue(
    session: AsyncSession, spec: ToolFilter, *, limit: int = 30, offset: int = 0
) -> SearchResult:
    """Tools whose text has a word of the query, or whose theme the query names.

    The query is read first (toolbox.search.reading: small words out, typos corrected,
    compounds split, themes found in their vocabularies). Tools of a named theme rank before
    tools that only mention a word; for a person in need, help lines come first. Only when
    neither finds anything is the query matched against titles by trigram similarity.
    """
    conditions = _conditions(spec)
    if not spec.query.strip():
        return SearchResult(*await _page(session, conditions, _order(spec, None), limit, offset))
    vocabulary = await vocabulary_for(session)
    reading = read_query(spec.query, vocabulary, dictionary_words())
    if reading.themes or reading.terms:
        build = _statement if spec.filtered else _kept_statement
        statement = build(replace(spec, query=""), reading, limit, offset)
        tools, total = await ranking.page_of(session, statement)
        if total:
            return SearchResult(tools, total, reading)
    phrase = " ".join(reading.words)
    if len(phrase) < MIN_FUZZY_LENGTH:
        return SearchResult((), 0, reading)
    # Nothing at all: perhaps a typo in a title ("onderwijskeizer").
    similarity = func.word_similarity(phrase, Tool.title)
    tools, total = await _page(
        session,
        [*conditions, literal(phrase).op("<%")(Tool.title)],
        _order(spec, similarity),
        limit,
        offset,
    )
    return SearchResult(tools, total, reading)


def _statement(
    spec: ToolFilter, reading: Reading, limit: int, offset: int
) -> Select[uuid.UUID, int]:
    """The page's statement for a query read as ``reading`` under ``spec``'s filters and sort."""
    conditions = _conditions(spec)
    tsquery = _any_word_query(reading.terms, reading.loose) if reading.terms else None
    statement = ranking.matching(
        conditions,
        reading,
        tsquery,
        _order(spec, None),
        filtered=spec.filtered,
        ranked=spec.sort == "relevantie",
        places=offset + limit,
    )
    return statement.limit(limit).offset(offset)


# Searches without filters come back (the same words): building their statement and its
# SQLAlchemy cache key costs a millisecond or two of Python, as much as a small search takes
# in the database, so it is kept (statements hold no session: safe to share). Filtered
# searches vary too much: keeping them would only churn the garbage collector.
_kept_statement = lru_cache(maxsize=256)(_statement)


def _any_word_query(terms: Sequence[str], loose: Sequence[str]) -> ColumnElement[object]:
    """Any of the words, stemmed in Dutch and without accents, longer ones as a prefix:
    "faalangstig" finds faalangst, "studiek" finds studiekeuze."""
    parts: list[str] = []
    for term in terms[:MAX_TERMS]:
        parts.append(f"{term}:*" if len(term) >= PREFIX_LENGTH else term)
        if len(term) >= TRUNCATE_LENGTH and term in loose:
            # Word families the stemmer keeps apart: depressief / depressie.
            parts.append(f"{term[:-2]}:*")
    # A scalar subquery: parsed once per search (an InitPlan), never once per row.
    return select(
        func.to_tsquery(cast(literal("clb_dutch"), REGCONFIG), " | ".join(parts))
    ).scalar_subquery()


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
    query = select(Tool.id, func.count().over()).where(and_(true(), *conditions)).order_by(*order)
    return await ranking.page_of(session, query.limit(limit).offset(offset))


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
