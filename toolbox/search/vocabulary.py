"""The words the search knows: every theme's vocabulary (``toolbox_theme_words``: the shipped
seed and what editors add), the theme names in every interface language, and the words of the
published tools' own texts (to split compounds and correct typos against).

Each process keeps one :class:`Vocabulary` per database in memory. At most every
``VERSION_CHECK_SECONDS`` a search asks the database for a cheap fingerprint of the theme
words (count, highest id and a sum of hashes, so an edit, an addition and a removal all show),
and every ``TOOLS_CHECK_SECONDS`` one of the catalogue (count and latest change); when one
changed, the vocabulary is rebuilt.
So an editor's word reaches every instance within seconds without a message between them;
:func:`vocabulary_changed` makes this process rebuild at the next search at once.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Container
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from clb import i18n
from toolbox.labels import THEME_LABELS
from toolbox.search import repository
from toolbox.search.spelling import SpellingIndex

VERSION_CHECK_SECONDS = 5.0
# The catalogue's own words matter for typos and compounds only: a slower check is enough.
TOOLS_CHECK_SECONDS = 60.0
# Debian's hunspell-nl word list (optional): a word found there is real Dutch, so the search
# does not "correct" it into a catalogue word, and its words help to split compounds.
HUNSPELL_DICTIONARY = Path("/usr/share/hunspell/nl_NL.dic")
MIN_DICTIONARY_WORD = 4


def normalise_word(text: str) -> str:
    """Lower case, accents off, one space between words: how the search compares words.

    Editors' words go through this before they are stored in ``normalised``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", plain))


@dataclass
class Vocabulary:
    """What one search needs to read a query; built from the database, never changed after."""

    # A normalised word or phrase -> the themes it names.
    phrases: dict[str, frozenset[str]] = field(default_factory=dict)
    # Words of published tools' texts and single theme words -> how many tools/themes use it.
    words: dict[str, int] = field(default_factory=dict)
    # Only the words found in published tools' texts.
    text_words: frozenset[str] = frozenset()
    spelling: SpellingIndex = field(default_factory=SpellingIndex)
    longest_phrase: int = 1

    def themes_of(self, phrase: str) -> frozenset[str]:
        return self.phrases.get(phrase, frozenset())

    def knows(self, word: str) -> bool:
        """In the catalogue or a theme's vocabulary (not just any Dutch word)."""
        return word in self.words


def build_vocabulary(
    theme_words: list[tuple[str, str]], tool_words: list[tuple[str, int]]
) -> Vocabulary:
    """A vocabulary from (theme, normalised phrase) pairs and (tool text word, tool count)."""
    named: dict[str, set[str]] = {}
    for theme, label in THEME_LABELS.items():
        for name in (label, *i18n.translations_of(label).values()):
            named.setdefault(normalise_word(name), set()).add(theme)
    for theme, phrase in theme_words:
        if theme in THEME_LABELS and phrase:
            named.setdefault(phrase, set()).add(theme)
    words: dict[str, int] = {}
    for raw, count in tool_words:
        word = normalise_word(raw)
        if len(word) >= 2 and " " not in word and not word.isdigit():
            words[word] = words.get(word, 0) + count
    text_words = frozenset(words)
    for phrase in named:
        for word in phrase.split():
            if not word.isdigit():
                words[word] = words.get(word, 0) + 1
    phrases = {phrase: frozenset(themes) for phrase, themes in named.items()}
    return Vocabulary(
        phrases=phrases,
        words=words,
        text_words=text_words,
        spelling=SpellingIndex.build(words),
        longest_phrase=max((len(p.split()) for p in phrases), default=1),
    )


@cache
def dictionary_words() -> Container[str]:
    """The stems of the Dutch Hunspell dictionary, normalised; empty when not installed.

    A dict of words to None, not a set: a dict holding only strings is not tracked by
    Python's garbage collector, a set of 160,000 words is walked by every full collection
    (tens of milliseconds, at a random search)."""
    try:
        lines = HUNSPELL_DICTIONARY.read_text(encoding="utf-8", errors="ignore").splitlines()
    except OSError:
        return {}
    found: dict[str, None] = {}
    for line in lines[1:]:
        word = normalise_word(line.split("/", 1)[0])
        if len(word) >= MIN_DICTIONARY_WORD and " " not in word:
            found[word] = None
    return found


@dataclass
class _Cached:
    vocabulary: Vocabulary
    words: tuple[object, ...]  # the theme words' fingerprint
    tools: tuple[object, ...]  # the catalogue's fingerprint
    words_checked_at: float
    tools_checked_at: float


_caches: dict[str, _Cached] = {}


async def vocabulary_for(session: AsyncSession) -> Vocabulary:
    """This database's vocabulary, rebuilt when the theme words changed (looked at no more
    than every ``VERSION_CHECK_SECONDS``) or the catalogue did (``TOOLS_CHECK_SECONDS``)."""
    key = str(session.get_bind().engine.url)
    cached = _caches.get(key)
    now = time.monotonic()
    if cached is not None:
        words_due = now - cached.words_checked_at >= VERSION_CHECK_SECONDS
        tools_due = now - cached.tools_checked_at >= TOOLS_CHECK_SECONDS
        if not words_due and not tools_due:
            return cached.vocabulary
        words = await repository.theme_words_fingerprint(session) if words_due else cached.words
        tools = await repository.tools_fingerprint(session) if tools_due else cached.tools
        if words_due:
            cached.words_checked_at = now
        if tools_due:
            cached.tools_checked_at = now
        if (words, tools) == (cached.words, cached.tools):
            return cached.vocabulary
    else:
        words = await repository.theme_words_fingerprint(session)
        tools = await repository.tools_fingerprint(session)
    vocabulary = build_vocabulary(
        await repository.theme_phrases(session), await repository.tool_words(session)
    )
    done = time.monotonic()
    _caches[key] = _Cached(vocabulary, words, tools, done, done)
    return vocabulary


async def vocabulary_changed(session: AsyncSession | None = None) -> None:
    """Call after committing a change to the theme words: this process rebuilds at its next
    search (``session``: only that database's vocabulary; None: all). Other processes see the
    change through the fingerprint within ``VERSION_CHECK_SECONDS``."""
    if session is None:
        _caches.clear()
    else:
        _caches.pop(str(session.get_bind().engine.url), None)
