"""Reading a query as pupils and parents type it: question phrasing and small words left
out, typos corrected, compounds split, themes found through their vocabularies.

The result says what to look for in the tools' texts (``terms``), which themes the query
names (``themes``), and how it was corrected (``corrected``, ``certain``).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

from toolbox.search.spelling import split_compound
from toolbox.search.vocabulary import Vocabulary, normalise_word

MAX_WORDS = 12
# Themes where someone searching is likely in need: help lines come first.
DISTRESS_THEMES = frozenset(
    {"zelfdoding-preventie", "mentale-gezondheid", "pesten", "thuissituatie"}
)

# Small words and question phrasing (normalised: lower case, no accents) in the interface
# languages; they never sink a query ("wat moet ik doen als ik word gepest").
STOP_WORDS = frozenset(
    """
    ik je jij jou jouw u uw me mij mijn m n we wij ons onze hij zij ze zich het de den der des
    een en of maar dat die dit deze wat wie waar waarom hoe wanneer welke welk moet moeten
    moest kan kunnen kun mag mogen wil wilt willen zal zou doen doe als word wordt worden
    werd ben bent is zijn was waren heb hebt heeft hebben had er daar hier naar van voor op in
    met aan bij om te tot uit over door zo ook nog al niet geen veel heel erg echt zeer iets
    iemand help helpen hulp tips tip info informatie vraag vragen probleem problemen gewoon
    soms altijd vaak nu meer zit zitten voel voelt omdat want dan toch even nodig
    i im am my me how what do does to the a an is are with about of for and or can should
    when if get being feel it this that in on at be have has
    j suis mon ma mes comment que quoi faire le la les l du des un une et ou pour avec
    aide aider est c qu d moi en ce qui
    ben bir ve ne nasil icin
    jak co w z na nie sie mam
    як що я в на не
    """.split()
)


@dataclass(frozen=True)
class Reading:
    terms: tuple[str, ...] = ()
    # Terms that no tool's text has as such: also looked up by their stem's start
    # (depressief -> depressi*: depressie).
    loose: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    # The query with its typos corrected (normalised), when a word was corrected.
    corrected: str | None = None
    certain: bool = True
    words: tuple[str, ...] = field(default=())

    @property
    def in_need(self) -> bool:
        return any(theme in DISTRESS_THEMES for theme in self.themes)


def _variants(word: str) -> list[str]:
    """The word and its likely base forms (plural, inflection, diminutive)."""
    forms = [word]
    for suffix, replacement in (
        ("tjes", ""),
        ("tje", ""),
        ("jes", ""),
        ("je", ""),
        ("ve", "f"),
        ("ze", "s"),
        ("en", ""),
        ("en", "e"),
        ("s", ""),
        ("e", ""),
        ("n", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            forms.append(word[: len(word) - len(suffix)] + replacement)
    return forms


def _corrected_words(
    words: list[str], vocabulary: Vocabulary, dictionary: Container[str]
) -> tuple[list[str], dict[int, str]]:
    """Words with certain corrections applied, and the uncertain ones by position."""
    result: list[str] = []
    unsure: dict[int, str] = {}
    for position, word in enumerate(words):
        if word in STOP_WORDS or word.isdigit() or vocabulary.knows(word) or word in dictionary:
            # Known here or real Dutch ("fiets" is not a typo of "iets").
            result.append(word)
            continue
        correction = vocabulary.spelling.correct(word)
        if correction is not None and correction.certain:
            result.append(correction.word)
        else:
            result.append(word)
            if correction is not None:
                unsure[position] = correction.word
    return result, unsure


def _phrases(words: list[str], vocabulary: Vocabulary) -> tuple[list[str], set[int]]:
    """Themes named by phrases of two or more words (longest first), and the positions used."""
    themes: list[str] = []
    used: set[int] = set()
    for size in range(min(len(words), vocabulary.longest_phrase), 1, -1):
        for start in range(len(words) - size + 1):
            span = set(range(start, start + size))
            if span & used:
                continue
            named = vocabulary.themes_of(" ".join(words[start : start + size]))
            if named:
                themes.extend(sorted(named))
                used |= span
    return themes, used


def _themes_of_word(word: str, vocabulary: Vocabulary) -> list[str]:
    for form in _variants(word):
        named = vocabulary.themes_of(form)
        if named:
            return sorted(named)
    return []


def read_query(query: str, vocabulary: Vocabulary, dictionary: Container[str]) -> Reading:
    """What a query asks for: text terms, themes, and its corrected form."""
    typed = normalise_word(query).split()[:MAX_WORDS]
    words, unsure = _corrected_words(typed, vocabulary, dictionary)
    themes, used = _phrases(words, vocabulary)
    terms: list[str] = []

    def is_part(part: str) -> bool:
        return vocabulary.knows(part) or part in dictionary

    for position, word in enumerate(words):
        if position in used or word in STOP_WORDS:
            continue
        own = _themes_of_word(word, vocabulary)
        parts = [word]
        if not word.isdigit() and not vocabulary.knows(word):
            split = split_compound(word, is_part)
            if split is not None:
                parts.extend(split)
                unsure.pop(position, None)
        if position in unsure:
            parts.append(unsure[position])
        themes.extend(own)
        if not own:
            for part in parts[1:]:
                themes.extend(_themes_of_word(part, vocabulary))
        terms.extend(parts)
    if not terms and not themes:
        terms = [word for word in words if len(word) >= 2]
    shown = [unsure.get(i, word) for i, word in enumerate(words)]
    changed = shown != typed
    unique = tuple(dict.fromkeys(terms))
    return Reading(
        terms=unique,
        loose=tuple(t for t in unique if t not in vocabulary.text_words),
        themes=tuple(dict.fromkeys(themes)),
        corrected=" ".join(shown) if changed else None,
        certain=not unsure,
        words=tuple(typed),
    )
