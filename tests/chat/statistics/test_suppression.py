"""Small-count suppression: nothing below 10 is shown, and nothing hidden can be worked out
from what is shown — checked against an exact rational solver, not the module's own."""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest

from chat.statistics.suppression import THRESHOLD, Group, suppress

Values = Mapping[Any, int]
Groups = Sequence[Group[Any]]


def recoverable(values: Values, groups: Groups, hidden: frozenset[Any]) -> set[Any]:
    """An independent check in exact arithmetic: the hidden cells whose value the group
    relations (with every shown cell known) pin down."""
    unknowns = sorted(hidden, key=list(values).index)
    index = {key: i for i, key in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for group in groups:
        row = [Fraction(0)] * len(unknowns)
        for key, sign in ((group.total, -1), *((p, 1) for p in group.parts)):
            if key in index:
                row[index[key]] += sign
        if any(row):
            rows.append(row)
    # Gauss–Jordan.
    pivots: list[int] = []
    r = 0
    for column in range(len(unknowns)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][column]), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [v / rows[r][column] for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][column]:
                factor = rows[i][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(column)
        r += 1
    return {
        unknowns[column] for i, column in enumerate(pivots) if sum(1 for v in rows[i] if v) == 1
    }


def worked_out(values: Values, groups: Groups, hidden: frozenset[Any]) -> set[Any]:
    """What an attacker gets: exact solutions, plus zeros where the hidden parts of a group
    must add up to 0 (counts are never negative), repeated while it yields more."""
    known: set[Any] = set()
    while True:
        unknown = frozenset(hidden - known)
        found = {
            part
            for group in groups
            if group.total not in unknown
            and sum(values[p] for p in group.parts if p in unknown) == 0
            for part in group.parts
            if part in unknown
        }
        found |= recoverable(values, groups, unknown - found)
        if not found:
            return known
        known |= found


def check(values: Values, groups: Groups) -> frozenset[Any]:
    hidden = suppress(values, groups)
    assert {k for k, v in values.items() if v < THRESHOLD} <= hidden
    # Zero chats says nothing about anyone: a hidden 0 may be worked out, nothing else.
    assert {k for k in worked_out(values, groups, hidden) if values[k]} == set()
    return hidden


def test_offered_answered_abandoned_hides_the_small_one_and_one_more() -> None:
    values = {"offered": 25, "answered": 20, "abandoned": 5}
    hidden = check(values, [Group("offered", ("answered", "abandoned"))])
    # 25 − 20 would give the 5 away: answered goes too; the total stays.
    assert hidden == {"abandoned", "answered"}


def test_a_zero_needs_no_partner() -> None:
    # 25 − 25 gives away that nobody abandoned: that is no one's secret.
    values = {"offered": 25, "answered": 25, "abandoned": 0}
    assert check(values, [Group("offered", ("answered", "abandoned"))]) == {"abandoned"}


METRICS = ("offered", "answered", "abandoned")


def a_week_by_day(
    counts: dict[str, tuple[int, int, int]],
) -> tuple[Values, Groups]:
    """The cells and groups of a week table: per day and for the week, offered = answered +
    abandoned; per metric, the week = the sum of the days. ``counts``: the days' (offered,
    answered, abandoned)."""
    values: dict[Hashable, int] = {}
    for day, day_counts in counts.items():
        for metric, value in zip(METRICS, day_counts, strict=True):
            values[(day, metric)] = value
    for i, metric in enumerate(METRICS):
        values[("week", metric)] = sum(day_counts[i] for day_counts in counts.values())
    groups = [
        Group((unit, "offered"), ((unit, "answered"), (unit, "abandoned")))
        for unit in (*counts, "week")
    ] + [Group(("week", metric), tuple((d, metric) for d in counts)) for metric in METRICS]
    return values, groups


def test_zeros_worked_out_from_a_total_do_not_give_a_day_away() -> None:
    # The week's 45 chats were all on Monday: the other days must be 0, so Monday's hidden
    # answered count would follow from the week's — the week's answered is hidden as well.
    hidden = check(*a_week_by_day({"mon": (45, 40, 5), "tue": (0, 0, 0), "wed": (0, 0, 0)}))
    assert {("mon", "abandoned"), ("mon", "answered"), ("week", "answered")} <= hidden


def test_a_day_worked_out_as_zero_cannot_unlock_a_hidden_day() -> None:
    # Wednesday's 0 follows from the week's offered minus Monday and Tuesday; then its
    # answered and abandoned must be 0 too, and Monday's hidden answered (40) would follow
    # from the week's 60 minus Tuesday's 20. Only the non-negativity of counts shows it.
    hidden = check(*a_week_by_day({"mon": (45, 40, 5), "tue": (30, 20, 10), "wed": (0, 0, 0)}))
    assert {("mon", "abandoned"), ("mon", "answered")} <= hidden
    metrics = METRICS
    assert len(hidden - {("wed", m) for m in metrics}) > 2


def test_with_nothing_small_nothing_is_hidden() -> None:
    values = {"offered": 45, "answered": 30, "abandoned": 15}
    assert check(values, [Group("offered", ("answered", "abandoned"))]) == frozenset()


def test_a_small_total_hides_a_part_too() -> None:
    # 12 + ? = 9 is impossible, but "<10" total with both parts shown adds up exactly.
    values = {"offered": 9, "answered": 5, "abandoned": 4}
    assert check(values, [Group("offered", ("answered", "abandoned"))]) == set(values)


def test_a_topic_breakdown_with_one_small_cell_hides_the_next_smallest() -> None:
    values = {"total": 70, "studiekeuze": 30, "faalangst": 25, "pesten": 11, "rouw": 4}
    hidden = check(values, [Group("total", ("studiekeuze", "faalangst", "pesten", "rouw"))])
    assert hidden == {"rouw", "pesten"}


def test_a_week_of_days_with_one_small_day() -> None:
    days = {f"day{n}": count for n, count in enumerate([14, 12, 15, 11, 3, 20, 16])}
    values = {"week": sum(days.values()), **days}
    hidden = check(values, [Group("week", tuple(days))])
    assert hidden == {"day4", "day3"}  # the small Friday and the smallest other day


def test_one_part_only_hides_the_total() -> None:
    values = {"total": 4, "only": 4, "other_total": 30, "a": 4, "b": 26}
    hidden = check(values, [Group("total", ("only",)), Group("other_total", ("a", "b"))])
    assert hidden == {"total", "only", "a", "b"}


def test_secondary_suppression_cascades_through_the_hierarchy() -> None:
    # Friday's abandoned count is small. Hiding Friday's answered as well is not enough:
    # the week's answered minus the other days' answered would give it back.
    days = ["mon", "tue", "fri"]
    counts = {"mon": (40, 30, 10), "tue": (35, 24, 11), "fri": (30, 27, 3)}
    values: dict[Hashable, int] = {}
    for day in days:
        for metric, value in zip(("offered", "answered", "abandoned"), counts[day], strict=True):
            values[(day, metric)] = value
    for metric_index, metric in enumerate(("offered", "answered", "abandoned")):
        values[("week", metric)] = sum(counts[d][metric_index] for d in days)
    groups = [
        Group((unit, "offered"), ((unit, "answered"), (unit, "abandoned")))
        for unit in (*days, "week")
    ] + [
        Group(("week", metric), tuple((d, metric) for d in days))
        for metric in ("offered", "answered", "abandoned")
    ]
    hidden = check(values, groups)
    assert ("fri", "abandoned") in hidden
    assert ("fri", "answered") in hidden
    # Both columns need a second hidden day, so the rows do too.
    assert len({d for d, _metric in hidden if d != "week"}) >= 2


def test_the_exact_audit_catches_what_the_group_rule_misses() -> None:
    """Two 2×2 blocks of hidden cells joined by a bridge: every relation has two hidden
    cells, yet the bridge can be solved by adding the right relations."""
    # Rows r1..r4 are totals over columns c1..c4; the column totals are shown too.
    grid = {
        ("r1", "c1"): 3, ("r1", "c2"): 4, ("r1", "c3"): 50, ("r1", "c4"): 60,
        ("r2", "c1"): 5, ("r2", "c2"): 6, ("r2", "c3"): 70, ("r2", "c4"): 2,
        ("r3", "c1"): 80, ("r3", "c2"): 90, ("r3", "c3"): 7, ("r3", "c4"): 8,
        ("r4", "c1"): 95, ("r4", "c2"): 85, ("r4", "c3"): 6, ("r4", "c4"): 5,
    }  # fmt: skip
    rows, columns = ("r1", "r2", "r3", "r4"), ("c1", "c2", "c3", "c4")
    values: dict[tuple[str, str], int] = dict(grid)
    for r in rows:
        values[(r, "all")] = sum(grid[(r, c)] for c in columns)
    for c in columns:
        values[("all", c)] = sum(grid[(r, c)] for r in rows)
    groups = [Group((r, "all"), tuple((r, c) for c in columns)) for r in rows] + [
        Group(("all", c), tuple((r, c) for r in rows)) for c in columns
    ]
    check(values, groups)


@pytest.mark.parametrize("seed", range(40))
def test_random_calendars_leave_nothing_recoverable(seed: int) -> None:
    """Days within weeks within a period, offered = answered + abandoned per unit, with
    random small and large counts; the exact solver finds nothing to recover."""
    rng = random.Random(seed)
    first = date(2026, 3, 1) + timedelta(days=rng.randrange(7))
    days = [first + timedelta(days=n) for n in range(rng.randrange(3, 24))]
    weeks: dict[tuple[str, date], list[date]] = {}
    for day in days:
        weeks.setdefault(("week", day - timedelta(days=day.weekday())), []).append(day)
    metrics = ("offered", "answered", "abandoned")
    values: dict[Hashable, int] = {}
    for day in days:
        offered = rng.choice([0, rng.randrange(0, 10), rng.randrange(10, 40)])
        answered = rng.randrange(0, offered + 1)
        values[(day, "offered")] = offered
        values[(day, "answered")] = answered
        values[(day, "abandoned")] = offered - answered
    for monday, in_week in weeks.items():
        for metric in metrics:
            values[(monday, metric)] = sum(values[(d, metric)] for d in in_week)
    for metric in metrics:
        values[("total", metric)] = sum(values[(w, metric)] for w in weeks)
    units: list[Hashable] = [*days, *weeks, "total"]
    groups = [Group((u, "offered"), ((u, "answered"), (u, "abandoned"))) for u in units]
    for metric in metrics:
        groups += [
            Group((w, metric), tuple((d, metric) for d in in_week)) for w, in_week in weeks.items()
        ]
        groups.append(Group(("total", metric), tuple((w, metric) for w in weeks)))
    check(values, groups)


def test_the_result_is_the_same_every_time() -> None:
    values = {"total": 40, "a": 10, "b": 10, "c": 10, "d": 10}
    values["d"] = 5
    values["total"] = 35
    group = [Group("total", ("a", "b", "c", "d"))]
    # Three equal candidates: the first in the table is taken.
    assert suppress(values, group) == {"d", "a"}
    assert all(suppress(values, group) == {"d", "a"} for _ in range(5))
