"""The search room's SQL: what the vocabulary is built from, its fingerprint, and the daily
count of crisis help boxes shown."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from toolbox.catalogue.models import Tool, ToolStatus
from toolbox.search.models import SafetyNetDay, ThemeWord

# Every word of every published tool's texts, with the number of tools that use it.
_TOOL_WORDS = text(
    """
    SELECT word, count(DISTINCT id) AS tools
    FROM toolbox_tools,
         regexp_split_to_table(
             lower(title || ' ' || summary || ' ' || search_terms || ' ' || description),
             '[^[:alnum:]]+'
         ) AS word
    WHERE status = :published AND length(word) >= 2
    GROUP BY word
    """
)


async def theme_phrases(session: AsyncSession) -> list[tuple[str, str]]:
    """(theme, normalised word or phrase) of every theme word, seed and editors'."""
    rows = await session.execute(select(ThemeWord.theme, ThemeWord.normalised))
    return [(str(theme), str(phrase)) for theme, phrase in rows.all()]


async def tool_words(session: AsyncSession) -> list[tuple[str, int]]:
    rows = await session.execute(_TOOL_WORDS, {"published": ToolStatus.published.value})
    return [(str(word), int(count)) for word, count in rows.all()]


async def theme_words_fingerprint(session: AsyncSession) -> tuple[object, ...]:
    """Changes whenever a theme word is added, removed or edited."""
    row = await session.execute(
        select(
            func.count(),
            func.coalesce(func.max(ThemeWord.id), 0),
            func.coalesce(func.sum(func.hashtext(ThemeWord.theme + ":" + ThemeWord.normalised)), 0),
        )
    )
    return tuple(row.one())


async def tools_fingerprint(session: AsyncSession) -> tuple[object, ...]:
    """Changes whenever a tool is added, removed or edited."""
    row = await session.execute(select(func.count(), func.max(Tool.updated_at)))
    return tuple(row.one())


async def count_safety_net(session: AsyncSession, day: date) -> None:
    """One more crisis help box shown on ``day`` (no query, no visitor: a number)."""
    statement = insert(SafetyNetDay).values(day=day, shown=1)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[SafetyNetDay.day], set_={"shown": SafetyNetDay.shown + 1}
        )
    )


async def safety_net_counts(session: AsyncSession, since: date, until: date) -> dict[date, int]:
    """Boxes shown per day from ``since`` to ``until`` (inclusive), days without any left out."""
    rows = await session.execute(
        select(SafetyNetDay.day, SafetyNetDay.shown)
        .where(SafetyNetDay.day >= since, SafetyNetDay.day <= until)
        .order_by(SafetyNetDay.day)
    )
    return {day: int(shown) for day, shown in rows.all()}
