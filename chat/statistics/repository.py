"""The statistics queries: everything is counted and ranked inside PostgreSQL, per Brussels
day, per ISO week and for the whole period in one pass (GROUPING SETS), so no conversation
row is ever loaded into the app.

Which conversations count (see docs/statistics.md):
- walk-in chats only: a chat by appointment starts already held by its counsellor, the only
  path that sets ``claimed_at`` equal to ``created_at``; it never waited in the queue, so
  it would distort every queue figure;
- by the Brussels day on which the chat was offered (``created_at``);
- answered = claimed at least once (``claimed_at`` set, or transferred at some point);
- never offered: a chat whose visitor's page never connected (``joined_at`` empty);
- abandoned = left the queue without ever being claimed (status abandoned), also by
  staying away past the return window;
- a chat still waiting when the figures are made is not counted yet (it is neither).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TIMEZONE = "Europe/Brussels"

# Abandonment buckets in seconds: [lower, upper) — <2, 2–5, 5–15, ≥15 minutes.
BUCKETS = {
    "abandoned_lt2": (0, 120),
    "abandoned_2_5": (120, 300),
    "abandoned_5_15": (300, 900),
    "abandoned_ge15": (900, None),
}

_WALK_INS = """
WITH offered AS (
    SELECT c.id,
           c.status,
           c.topic,
           c.rating,
           (c.created_at AT TIME ZONE :tz)::date AS day,
           (c.claimed_at IS NOT NULL OR EXISTS (
               SELECT 1 FROM conversation_transfers t WHERE t.conversation_id = c.id
           )) AS answered,
           extract(epoch FROM c.claimed_at - c.created_at) AS wait_s,
           extract(epoch FROM c.ended_at - c.created_at) AS queue_s,
           CASE WHEN c.status = 'ended'
                THEN extract(epoch FROM c.ended_at - c.claimed_at) END AS duration_s
    FROM conversations c
    WHERE c.created_at >= :start
      AND c.created_at < :end
      -- a chat by appointment is created already held: it never waited
      AND c.claimed_at IS DISTINCT FROM c.created_at
      -- one whose visitor never connected was never in the queue
      AND c.joined_at IS NOT NULL
),
walk_ins AS (
    SELECT *, date_trunc('week', day::timestamp)::date AS week
    FROM offered
    WHERE answered OR status <> 'waiting'
)
"""


def _bucket(name: str, bounds: tuple[int, int | None]) -> str:
    lower, upper = bounds
    # queue_s is never NULL for an abandoned chat; should it be, the first bucket takes it,
    # so the buckets always add up to the abandoned count.
    condition = f"coalesce(queue_s, 0) >= {lower}"
    if upper is not None:
        condition += f" AND coalesce(queue_s, 0) < {upper}"
    return f"count(*) FILTER (WHERE NOT answered AND {condition}) AS {name}"


def _percentiles(name: str, column: str, where: str) -> str:
    return (
        f"count({column}) FILTER (WHERE {where}) AS {name}_n, "
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) FILTER (WHERE {where})"
        f" AS {name}_p50, "
        f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {column}) FILTER (WHERE {where})"
        f" AS {name}_p90"
    )


# Built once at import from the constants above (no input goes into the text).
_BY_PERIOD = (
    _WALK_INS
    + f"""
SELECT GROUPING(day, week) AS level,
       day,
       week,
       count(*) AS offered,
       count(*) FILTER (WHERE answered) AS answered,
       count(*) FILTER (WHERE NOT answered) AS abandoned,
       {", ".join(_bucket(name, bounds) for name, bounds in BUCKETS.items())},
       {_percentiles("wait", "wait_s", "answered")},
       {_percentiles("abandoned_after", "queue_s", "NOT answered")},
       {_percentiles("duration", "duration_s", "answered")},
       count(rating) AS rated,
       avg(rating)::float AS rating_mean
FROM walk_ins
GROUP BY GROUPING SETS ((day, week), (week), ())
"""  # noqa: S608
)

_BREAKDOWNS = (
    _WALK_INS
    + """
SELECT 'star' AS kind, rating::text AS code, count(*) AS n
FROM walk_ins WHERE rating IS NOT NULL GROUP BY rating
UNION ALL
SELECT 'prechat', topic, count(*) FROM walk_ins GROUP BY topic
UNION ALL
SELECT 'outcomes', '', count(*)
FROM walk_ins w JOIN conversation_outcomes o ON o.conversation_id = w.id
UNION ALL
SELECT 'topic', code, count(DISTINCT w.id)
FROM walk_ins w JOIN conversation_outcomes o ON o.conversation_id = w.id
CROSS JOIN LATERAL unnest(o.topics) AS code
GROUP BY code
UNION ALL
SELECT 'referral', code, count(DISTINCT w.id)
FROM walk_ins w JOIN conversation_outcomes o ON o.conversation_id = w.id
CROSS JOIN LATERAL unnest(o.referrals) AS code
GROUP BY code
"""
)


@dataclass(frozen=True)
class PeriodFigures:
    """One row of ``_BY_PERIOD``: a day (``day`` set), a week (``week`` set) or the whole
    period (neither). Times are in seconds; percentiles are None without data."""

    day: date | None
    week: date | None
    counts: dict[str, int]
    percentiles: dict[str, float | None]
    samples: dict[str, int]
    rating_mean: float | None


COUNTS = ("offered", "answered", "abandoned", *BUCKETS, "rated")
MEASURES = ("wait", "abandoned_after", "duration")


def _figures(row: Any) -> PeriodFigures:
    level = int(row.level)
    return PeriodFigures(
        day=row.day if level == 0 else None,
        # GROUPING() sets a bit for each column left out: day is the high bit.
        week=row.week if level in (0, 2) else None,
        counts={name: int(getattr(row, name)) for name in COUNTS},
        percentiles={
            f"{m}_{p}": getattr(row, f"{m}_{p}") for m in MEASURES for p in ("p50", "p90")
        },
        samples={m: int(getattr(row, f"{m}_n")) for m in MEASURES},
        rating_mean=row.rating_mean,
    )


async def figures_by_period(
    session: AsyncSession, start: datetime, end: datetime
) -> list[PeriodFigures]:
    """Per day, per ISO week and for everything between ``start`` and ``end`` (aware
    instants; the days and weeks are Brussels ones). Days without chats have no row."""
    result = await session.execute(text(_BY_PERIOD), {"tz": TIMEZONE, "start": start, "end": end})
    return [_figures(row) for row in result]


async def breakdowns(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[str, dict[str, int]]:
    """For the whole period: ratings per star, the pre-chat topic, the number of recorded
    outcomes (key ""), and per outcome topic and referral the chats that name it."""
    result = await session.execute(text(_BREAKDOWNS), {"tz": TIMEZONE, "start": start, "end": end})
    found: dict[str, dict[str, int]] = {
        "star": {},
        "prechat": {},
        "outcomes": {},
        "topic": {},
        "referral": {},
    }
    for kind, code, count in result:
        found[kind][code] = int(count)
    return found
