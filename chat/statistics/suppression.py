"""Small-count suppression for published statistics, including by subtraction.

The rule
--------
1. **Primary suppression.** Every count below ``THRESHOLD`` (10) — zero included — is shown
   as "<10".
2. **Complementary (secondary) suppression.** The published figures are bound by additive
   relations, *groups*: a total equals the sum of its parts (offered = answered + abandoned;
   abandoned = the four wait buckets; a week = its days within the period; the period = its
   weeks; the pre-chat topics add up to the chats offered; the stars add up to the ratings).
   When a group has exactly one hidden cell, that cell can be recovered by subtraction (or,
   when it is the total, by addition). Then one more cell of that group is hidden: the
   smallest shown part (ties: the first in the table); only when no part is left, the total.
   This is repeated until no group has exactly one hidden cell.
3. **Audit.** "No group with exactly one hidden cell" is not always enough when groups
   overlap (a hidden cell can be pinned down by combining several groups, as in a two-way
   table). So the hidden cells are then checked exactly: the group relations restricted to
   the hidden cells form a linear system, and a hidden cell is recoverable when that system
   determines it (its unit vector lies in the row space). Counts are never negative, so
   hidden parts of a group that must add up to 0 are all 0 and count as known too; that
   can unlock more, so the check repeats. For the first recoverable cell one more cell from
   one of its groups is hidden (the smallest shown), and steps 2–3 run again.
4. **Zeros.** A hidden cell that can only be worked out as 0 needs no partner: "nobody
   abandoned on Tuesday" is no one's secret. It is still shown as "<10".

All groups are solved together, over every view of the same period (per day *and* per week,
whichever is displayed), so switching between the day and the week view reveals nothing
either. What it cannot protect against is comparing two *different* periods (Monday–Sunday
against Monday–Saturday); docs/statistics.md says so.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

THRESHOLD = 10
PRIME = 2**61 - 1  # a Mersenne prime

K = TypeVar("K", bound=Hashable)  # how a cell is named


@dataclass(frozen=True)
class Group(Generic[K]):
    """``total`` equals the sum of ``parts``."""

    total: K
    parts: tuple[K, ...]


def suppress(
    values: Mapping[K, int], groups: Iterable[Group[K]], threshold: int = THRESHOLD
) -> frozenset[K]:
    """The cells to hide. ``values`` holds every published count, in table order (the order
    breaks ties, so the result is the same every time)."""
    order = {key: index for index, key in enumerate(values)}
    relevant = [g for g in groups if g.total in values and all(p in values for p in g.parts)]
    hidden = {key for key, value in values.items() if value < threshold}

    def smallest(candidates: Sequence[K]) -> K:
        return min(candidates, key=lambda key: (values[key], order[key]))

    while True:
        changed = True
        while changed:
            changed = False
            for group in relevant:
                unknown = [c for c in (group.total, *group.parts) if c in hidden]
                if len(unknown) != 1 or values[unknown[0]] == 0:
                    continue
                shown_parts = [p for p in group.parts if p not in hidden]
                hidden.add(smallest(shown_parts) if shown_parts else group.total)
                changed = True
        leaks = [c for c in _worked_out(values, hidden, relevant) if values[c] != 0]
        if not leaks:
            return frozenset(hidden)
        cell = min(leaks, key=order.__getitem__)
        neighbours = [
            c
            for group in relevant
            if cell == group.total or cell in group.parts
            for c in (*group.parts, group.total)
            if c not in hidden
        ]
        if not neighbours:  # pragma: no cover - a worked-out cell has a shown neighbour
            return frozenset(hidden)
        hidden.add(smallest(neighbours))


def _worked_out(values: Mapping[K, int], hidden: set[K], groups: Sequence[Group[K]]) -> set[K]:
    """The hidden cells someone could work out from the shown ones: those the relations
    determine exactly, and those that must be 0 because the hidden parts of a group add up
    to 0 (counts are never negative). Each finding can unlock more, so this repeats."""
    known: set[K] = set()
    while True:
        unknown = hidden - known
        found: set[K] = set()
        for group in groups:
            if group.total in unknown:
                continue
            parts = [p for p in group.parts if p in unknown]
            if parts and sum(values[p] for p in parts) == 0:
                found.update(parts)
        found |= _recoverable(unknown - found, groups)
        if not found:
            return known
        known |= found


def _recoverable(hidden: set[K], groups: Sequence[Group[K]]) -> set[K]:
    """Hidden cells that the group relations determine exactly (Gauss–Jordan over the
    hidden cells; connected components are solved apart to keep the systems small)."""
    rows: list[dict[K, int]] = []
    for group in groups:
        row: dict[K, int] = {}
        if group.total in hidden:
            row[group.total] = -1
        for part in group.parts:
            if part in hidden:
                row[part] = row.get(part, 0) + 1
        row = {key: coefficient for key, coefficient in row.items() if coefficient}
        if row:
            rows.append(row)
    found: set[K] = set()
    for component in _components(rows):
        found |= _determined(component)
    return found


def _components(rows: list[dict[K, int]]) -> list[list[dict[K, int]]]:
    parent: dict[K, K] = {}

    def root(key: K) -> K:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for row in rows:
        keys = list(row)
        for other in keys[1:]:
            parent[root(other)] = root(keys[0])
    grouped: dict[K, list[dict[K, int]]] = {}
    for row in rows:
        grouped.setdefault(root(next(iter(row))), []).append(row)
    return list(grouped.values())


def _determined(rows: list[dict[K, int]]) -> set[K]:
    """Reduced row echelon form; a variable is determined when a reduced row holds only it.

    Exact rational arithmetic is far too slow on a year of days (fill-in), so this works
    modulo a large prime. The answer differs from the rational one only when the prime
    divides one of the system's minors: for 0/±1 coefficients a chance of the order of
    1 in 2**61."""
    reduced: dict[K, dict[K, int]] = {}  # pivot -> its row, pivot coefficient 1
    for raw in sorted(rows, key=len):
        row = {key: value % PRIME for key, value in raw.items()}
        for pivot in [key for key in row if key in reduced]:
            factor = row.get(pivot)
            if factor:
                _subtract(row, reduced[pivot], factor)
        if not row:
            continue
        pivot = next(iter(row))
        inverse = pow(row[pivot], -1, PRIME)
        row = {key: value * inverse % PRIME for key, value in row.items()}
        # Keep every stored row reduced with respect to the new pivot.
        for other in reduced.values():
            factor = other.get(pivot)
            if factor:
                _subtract(other, row, factor)
        reduced[pivot] = row
    return {pivot for pivot, row in reduced.items() if len(row) == 1}


def _subtract(row: dict[K, int], pivot_row: dict[K, int], factor: int) -> None:
    """row -= factor * pivot_row (mod PRIME), dropping zeros."""
    for key, value in pivot_row.items():
        updated = (row.get(key, 0) - factor * value) % PRIME
        if updated:
            row[key] = updated
        else:
            row.pop(key, None)
