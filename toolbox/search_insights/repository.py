"""All SQL of the search insights: the search log's counts and the theme vocabularies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from toolbox.catalogue.models import Tool, ToolSlug, ToolStatus
from toolbox.search.models import ThemeWord
from toolbox.search_insights.models import SearchDay

# PostgreSQL takes at most 65,535 parameters per statement: 5 per row.
ROWS_PER_STATEMENT = 5000


@dataclass(frozen=True)
class DayCounts:
    day: date
    query: str
    searches: int
    zero_results: int
    clicks: int


@dataclass(frozen=True)
class QueryTotals:
    query: str
    searches: int
    zero_results: int
    clicks: int

    @property
    def with_results(self) -> int:
        return self.searches - self.zero_results


async def add_counts(session: AsyncSession, rows: Sequence[DayCounts]) -> None:
    """Add the counts to each (day, query) row, creating it when new."""
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        statement = insert(SearchDay).values(
            [
                {
                    "day": row.day,
                    "query": row.query,
                    "searches": row.searches,
                    "zero_results": row.zero_results,
                    "clicks": row.clicks,
                }
                for row in chunk
            ]
        )
        table = SearchDay.__table__.c
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.day, table.query],
                set_={
                    "searches": table.searches + statement.excluded.searches,
                    "zero_results": table.zero_results + statement.excluded.zero_results,
                    "clicks": table.clicks + statement.excluded.clicks,
                },
            )
        )


async def is_published_tool(session: AsyncSession, slug: str) -> bool:
    """Whether ``slug`` is a published tool's, or an old slug of one (a results page shown
    before a rename)."""
    renamed = select(ToolSlug.tool_id).where(ToolSlug.slug == slug)
    found = await session.scalar(
        select(Tool.id)
        .where(
            Tool.status == ToolStatus.published.value,
            or_(Tool.slug == slug, Tool.id.in_(renamed)),
        )
        .limit(1)
    )
    return found is not None


def _totals() -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[int]]:
    return (
        func.sum(SearchDay.searches).label("searches"),
        func.sum(SearchDay.zero_results).label("zero_results"),
        func.sum(SearchDay.clicks).label("clicks"),
    )


async def zero_result_queries(
    session: AsyncSession, since: date, at_least: int, limit: int
) -> list[QueryTotals]:
    """Queries searched without results at least ``at_least`` times since ``since``, the
    most often first."""
    searches, zero, clicks = _totals()
    rows = await session.execute(
        select(SearchDay.query, searches, zero, clicks)
        .where(SearchDay.day >= since)
        .group_by(SearchDay.query)
        .having(func.sum(SearchDay.zero_results) >= at_least)
        .order_by(func.sum(SearchDay.zero_results).desc(), SearchDay.query)
        .limit(limit)
    )
    return [QueryTotals(q, int(s), int(z), int(c)) for q, s, z, c in rows.all()]


async def low_click_queries(
    session: AsyncSession, since: date, at_least: int, share: float, limit: int
) -> list[QueryTotals]:
    """Queries that found something at least ``at_least`` times since ``since`` and whose
    clicks stayed under ``share`` of those searches, the most searched first."""
    searches, zero, clicks = _totals()
    found = func.sum(SearchDay.searches) - func.sum(SearchDay.zero_results)
    rows = await session.execute(
        select(SearchDay.query, searches, zero, clicks)
        .where(SearchDay.day >= since)
        .group_by(SearchDay.query)
        .having(found >= at_least, func.sum(SearchDay.clicks) < found * share)
        .order_by(found.desc(), SearchDay.query)
        .limit(limit)
    )
    return [QueryTotals(q, int(s), int(z), int(c)) for q, s, z, c in rows.all()]


async def delete_days_before(session: AsyncSession, cutoff: date) -> int:
    result = await session.execute(delete(SearchDay).where(SearchDay.day < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


# --- Theme vocabularies --------------------------------------------------------------------


async def theme_words(session: AsyncSession) -> Sequence[ThemeWord]:
    rows = await session.scalars(
        select(ThemeWord).order_by(ThemeWord.theme, ThemeWord.language, ThemeWord.normalised)
    )
    return rows.all()


async def words_matching(session: AsyncSession, normalised: Sequence[str]) -> Sequence[ThemeWord]:
    if not normalised:
        return []
    rows = await session.scalars(
        select(ThemeWord)
        .where(ThemeWord.normalised.in_(normalised))
        .order_by(ThemeWord.theme, ThemeWord.language)
    )
    return rows.all()


async def word_exists(session: AsyncSession, theme: str, language: str, normalised: str) -> bool:
    found = await session.scalar(
        select(ThemeWord.id).where(
            ThemeWord.theme == theme,
            ThemeWord.language == language,
            ThemeWord.normalised == normalised,
        )
    )
    return found is not None


async def word_by_id(session: AsyncSession, word_id: int) -> ThemeWord | None:
    return await session.get(ThemeWord, word_id, with_for_update=True)
