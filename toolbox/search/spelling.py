"""Typos and compounds, against the catalogue's own words.

Typos: a symmetric-delete index (as SymSpell): every known word is filed under itself and
under each form with one letter left out; a typed word looks up its own such forms. That
finds, in a few dictionary look-ups, every known word one edit away (a letter missing, one
too many, one wrong, two swapped), whatever the size of the catalogue.

Compounds: Dutch writes "examenstress", "pestgedrag", "huiswerkplanning" as one word; a word
the catalogue does not know is split into known words, with the linking "s", "e" or "en"
("examensstress", "schoolenstress") allowed between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

MIN_TYPO_LENGTH = 4  # shorter words have too many neighbours
MIN_PART = 4
MAX_PARTS = 3
LINKS = ("", "s", "e", "en")


@dataclass(frozen=True)
class Correction:
    word: str
    certain: bool


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (an adjacent swap counts as one edit)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


@dataclass
class SpellingIndex:
    counts: dict[str, int] = field(default_factory=dict)
    deletes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, counts: dict[str, int]) -> SpellingIndex:
        deletes: dict[str, list[str]] = {}
        for word in counts:
            if len(word) < MIN_TYPO_LENGTH:
                continue
            for form in _deletes(word):
                deletes.setdefault(form, []).append(word)
        # Tuples of strings (unlike lists) drop out of Python's garbage collector, and then
        # so does the dict: full collections no longer walk tens of thousands of entries.
        return cls(counts=counts, deletes={form: tuple(words) for form, words in deletes.items()})

    def correct(self, typed: str) -> Correction | None:
        """The known word meant by an unknown one, or None. Certain when it is the one
        candidate one edit away (or far more common than any other) and long enough."""
        if len(typed) < MIN_TYPO_LENGTH or typed in self.counts:
            return None
        found: set[str] = set(self.deletes.get(typed, ()))
        for form in _deletes(typed):
            if form in self.counts and len(form) >= MIN_TYPO_LENGTH:
                found.add(form)
            found.update(self.deletes.get(form, ()))
        scored = sorted(
            ((distance(typed, word), -self.counts[word], word) for word in found),
        )
        scored = [s for s in scored if s[0] <= 1 or (s[0] == 2 and len(typed) >= 8)]
        if not scored:
            return None
        best_distance, best_count, best = scored[0]
        rivals = [s for s in scored[1:] if s[0] == best_distance]
        clear = not rivals or -rivals[0][1] * 4 <= -best_count
        certain = best_distance == 1 and clear and len(typed) >= 5
        return Correction(best, certain)


def split_compound(word: str, is_part: Callable[[str], bool]) -> list[str] | None:
    """The fewest known parts that make up ``word`` (with linking letters between them),
    preferring a longer first part; None when it is not such a compound."""

    @cache
    def best(start: int, parts_left: int) -> tuple[str, ...] | None:
        rest = word[start:]
        if start > 0 and len(rest) >= MIN_PART and is_part(rest):
            return (rest,)
        if parts_left <= 1:
            return None
        choice: tuple[str, ...] | None = None
        for end in range(len(word) - MIN_PART, start + MIN_PART - 1, -1):
            head = word[start:end]
            if not is_part(head):
                continue
            for link in LINKS:
                if not word.startswith(link, end):
                    continue
                tail = best(end + len(link), parts_left - 1)
                if tail is not None and (choice is None or len(tail) + 1 < len(choice)):
                    choice = (head, *tail)
        return choice

    if len(word) < 2 * MIN_PART:
        return None
    found = best(0, MAX_PARTS)
    return list(found) if found is not None and len(found) > 1 else None
