"""How search results are ordered: tools of a theme the query names before tools that only
mention one of its words, the tools most about that theme first; for someone in need (a
distress theme such as bullying or suicide), the best-fitting help lines and chats first.

Speed (issue 21: p99 < 20 ms on 10,000 tools). A query that names a theme matches all of
that theme's tools, a fifth or more of a large catalogue. Three things keep that cheap, and
the page and the total exactly those of scoring every tool in one plain query (see
tests/toolbox/test_search_order_unchanged.py):

- the theme's tools and the other tools whose text matches are found apart, each through its
  own GIN index (:func:`_parts`), rather than by one OR that tested every row;
- a score is a theme part (from the ``themes`` array) plus a text part below
  ``TEXT_WEIGHT`` (``ts_rank_cd``, the costly part); a tool that cannot reach the page
  whatever its text is not ranked: the text-only tools when the theme's tools fill the page,
  the tools lacking one of several named themes when enough tools have them all
  (:func:`_can_reach`);
- the total is counted over narrow rows (id, title, score), and the page's tools are loaded
  afterwards by id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from toolbox.catalogue.models import Kind, Tool
from toolbox.search.reading import DISTRESS_THEMES, Reading

HELP_KINDS = (Kind.hulplijn.value, Kind.chat.value)
# How many help lines go ahead of everything for someone in need: more when life is at stake.
HELP_FIRST = 2
HELP_FIRST_CRISIS = 3
CRISIS_THEMES = frozenset({"zelfdoding-preventie"})
MAX_THEMES = 6
THEME_WEIGHT = 5.0  # more than any text match can score
PRIMARY_WEIGHT = 1.5  # the theme is the tool's first (main) theme
TEXT_WEIGHT = 3.0  # a text match scores about 1 to 2.5, always below 3: less than a theme
# What the page's speed rests on (see _parts and _can_reach): one named theme outweighs any
# text part together with the focus part (at most 1).
assert THEME_WEIGHT >= TEXT_WEIGHT + 1.0  # noqa: S101


def relevance(
    reading: Reading,
    tsquery: ColumnElement[object] | None,
    rank_text: ColumnElement[bool] | None = None,
) -> ColumnElement[float]:
    """Higher is better: a named theme outweighs any text match; among a theme's tools, those
    with it as their main theme and with fewer other themes first, then by text match.

    Where ``rank_text`` is false the text part is left out (0): for tools that cannot reach
    the page (see :func:`_ranked`)."""
    themes = list(reading.themes[:MAX_THEMES])
    score: ColumnElement[float] = literal(0.0)
    if tsquery is not None:
        # Normalisation 32: rank / (rank + 1), between 0 and 1 (never 1); its fourth root
        # lifts any match well above none (a step, within a theme: mentioned first) while
        # still ordering matches, at the cost of one rank per row.
        rank = func.ts_rank_cd(Tool.search_vector, tsquery, 32)
        text = TEXT_WEIGHT * func.power(rank, 0.25)
        score = score + (text if rank_text is None else case((rank_text, text), else_=0.0))
    # Always summed in this order: the same sums give the same scores, to the last bit.
    return _plus_themes(score, themes)


def _plus_themes(score: ColumnElement[float], themes: list[str]) -> ColumnElement[float]:
    """``score`` plus the theme part: the named themes a tool has (``THEME_WEIGHT`` each),
    one of them its main theme, and the fewer other themes the better."""
    for theme in themes:
        score = score + case((Tool.themes.contains([theme]), THEME_WEIGHT), else_=0.0)
    if themes:
        score = score + case((Tool.themes[1].in_(themes), PRIMARY_WEIGHT), else_=0.0)
        focus = case(
            (
                Tool.themes.overlap(themes),
                1.0 / cast(func.greatest(func.cardinality(Tool.themes), 1), Float),
            ),
            else_=0.0,
        )
        score = score + focus
    return score


def matching(
    conditions: list[ColumnElement[bool]],
    reading: Reading,
    tsquery: ColumnElement[object] | None,
    order: list[ColumnElement[Any]],
    *,
    filtered: bool,
    ranked: bool,
    places: int,
) -> Select[uuid.UUID, int]:
    """(id, total) of the tools that match the query (its themes or its words) under the
    ``conditions``, right for the first ``places`` places; ``filtered``: the conditions hold
    filters besides the status; ``ranked`` False keeps ``order`` (by title, newest)."""
    if ranked:
        return _ranked(conditions, reading, tsquery, places, filtered)
    matches = [Tool.themes.overlap(list(reading.themes))] if reading.themes else []
    if tsquery is not None:
        matches.append(Tool.search_vector.op("@@")(tsquery))
    query = select(Tool.id, func.count().over()).where(*conditions, or_(*matches))
    return query.order_by(*order)


async def page_of(
    session: AsyncSession, query: Select[uuid.UUID, int]
) -> tuple[Sequence[Tool], int]:
    """The page of a query for (id, total of all rows), its tools loaded afterwards: sorting
    and counting narrow rows is much cheaper than whole tools with their text vectors."""
    rows = (await session.execute(query)).all()
    if not rows:
        return [], 0
    ids = [row[0] for row in rows]
    tools = {tool.id: tool for tool in await session.scalars(select(Tool).where(Tool.id.in_(ids)))}
    return [tools[tool_id] for tool_id in ids if tool_id in tools], int(rows[0][1])


def _ranked(
    conditions: list[ColumnElement[bool]],
    reading: Reading,
    tsquery: ColumnElement[object] | None,
    places: int,
    filtered: bool,
) -> Select[uuid.UUID, int]:
    """Ids by relevance with the total of all matches, right for the first ``places``
    places; for someone in need, the best help lines first."""
    title = func.lower(Tool.title)
    distress = [theme for theme in reading.themes if theme in DISTRESS_THEMES]
    is_help = _help_lines(distress)
    selects = []
    for part in _parts(conditions, reading, tsquery, places, distress, filtered):
        score = relevance(reading, tsquery, part.rank_text)
        columns: list[Any] = [Tool.id, title.label("title"), score.label("score")]
        if distress:
            # Help lines are tools of a named (distress) theme: none in the text part.
            place = func.row_number().over(partition_by=is_help, order_by=(score.desc(), title))
            help_place = (is_help, place) if part.themed else (false(), literal(0))
            columns += [help_place[0].label("help"), help_place[1].label("place")]
        # OFFSET 0 keeps each part apart: the count of all matches (a window) then runs
        # over these narrow rows, not over whole tools with their text (that spilled to disk).
        selects.append(select(*columns).where(*conditions, part.match).offset(0))
    scored = (selects[0] if len(selects) == 1 else union_all(*selects)).subquery()
    query = select(scored.c.id, func.count().over())
    if distress:
        crisis = any(theme in CRISIS_THEMES for theme in distress)
        first = and_(scored.c.help, scored.c.place <= (HELP_FIRST_CRISIS if crisis else HELP_FIRST))
        query = query.order_by(first.desc())
    return query.order_by(scored.c.score.desc(), scored.c.title)


@dataclass(frozen=True)
class _Part:
    match: ColumnElement[bool]
    # The tools whose text is ranked (the others cannot reach the page); None: all.
    rank_text: ColumnElement[bool] | None = None
    # Whether it may hold tools of a named theme (and so help lines).
    themed: bool = True


def _parts(
    conditions: list[ColumnElement[bool]],
    reading: Reading,
    tsquery: ColumnElement[object] | None,
    places: int,
    distress: list[str],
    filtered: bool,
) -> list[_Part]:
    """What a tool must meet to match, in parts that each use their own index: the named
    themes' tools (GIN on ``themes``), then the other tools whose text matches (GIN on
    ``search_vector``). One OR of both made PostgreSQL test every row of the table.

    Any tool of a named theme outranks any other (a theme outweighs any text), so the text
    part needs its texts ranked only when the theme part does not fill the page."""
    themes = list(reading.themes)
    in_theme = Tool.themes.overlap(themes)
    if tsquery is None:
        return [_Part(in_theme)]
    in_text = Tool.search_vector.op("@@")(tsquery)
    if not themes:
        return [_Part(in_text, themed=False)]
    if filtered or len(themes) > MAX_THEMES:
        # Filters (a theme, an audience …) leave few tools, found through their own indexes:
        # one scan of those is cheaper. A theme past MAX_THEMES adds nothing to the score:
        # its tools mix with the others.
        return [_Part(or_(in_theme, in_text))]
    filled = _at_least([*conditions, in_theme], places)
    return [
        _Part(in_theme, _can_reach(conditions, themes, places, distress)),
        _Part(and_(in_text, not_(in_theme)), rank_text=not_(filled), themed=False),
    ]


def _at_least(conditions: list[ColumnElement[bool]], enough: int) -> ColumnElement[bool]:
    """Whether ``enough`` tools meet the conditions: evaluated once per search (an InitPlan),
    a scan that stops at the ``enough``th."""
    some = select(literal(1)).where(*conditions).limit(enough).subquery()
    return select(func.count()).select_from(some).scalar_subquery() >= enough


def _can_reach(
    conditions: list[ColumnElement[bool]], themes: list[str], places: int, distress: list[str]
) -> ColumnElement[bool] | None:
    """The theme tools whose text can matter for the first ``places`` places (None: all).

    With n named themes (n > 1): a tool with all of them, one its main theme, scores over
    5n + 1.5; a tool that lacks one scores at most 5(n - 1) + 1.5 + 1 plus a text part below
    ``TEXT_WEIGHT``: less. So when ``places`` tools of the first kind match, a tool that lacks
    a named theme cannot reach the page whatever its text, and its text is not ranked. Help
    lines always are: they compete among themselves for the first places."""
    if len(themes) < 2:
        return None
    every = and_(Tool.themes.contains(themes), Tool.themes[1].in_(themes))
    enough = _at_least([*conditions, every], places)
    return or_(not_(enough), Tool.themes.contains(themes), _help_lines(distress))


def _help_lines(distress: list[str]) -> ColumnElement[bool]:
    """Help lines and chats for the distress themes the query names."""
    if not distress:
        return false()
    return and_(Tool.kind.in_(HELP_KINDS), Tool.themes.overlap(distress))
