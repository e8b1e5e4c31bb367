"""Percentiles and the millisecond summaries every bench program reports."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0-100) of an already sorted list."""
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def summarize_ms(seconds: Iterable[float]) -> dict[str, float | int | None]:
    """count, p50, p90, p99, max and mean of durations in seconds, as milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "count": len(ordered),
        "p50": round(percentile(ordered, 50) * 1000, 2),
        "p90": round(percentile(ordered, 90) * 1000, 2),
        "p99": round(percentile(ordered, 99) * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
        "mean": round(sum(ordered) / len(ordered) * 1000, 2),
    }
