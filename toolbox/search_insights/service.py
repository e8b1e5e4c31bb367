"""Editors learn from searches: the queries that found nothing or were rarely clicked, and the
theme vocabularies they add words to. Staff-only texts (console)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth.models import StaffAccount
from clb.db import after_commit
from clb.errors import ClbError, NotFound
from clb.i18n import LANGUAGE_NAMES
from toolbox.labels import THEME_LABELS
from toolbox.search.models import ThemeWord
from toolbox.search.vocabulary import normalise_word, vocabulary_changed
from toolbox.search_insights import repository
from toolbox.search_insights.counting import BRUSSELS

# Kept 90 days, and the console looks at those 90 days (docs/privacy.md).
RETENTION_DAYS = 90
# Small counts are suppressed with the chat statistics' threshold (chat/statistics/
# suppression.py, THRESHOLD): the rule is the chat domain's and reaching it would mean a new
# door in chat/public.py for one number, so the same number is repeated here. A query is
# listed only when the count that puts it on a list is at least 10; a click count below 10
# (zero included) is shown as "<10". No shown figure is the difference of two others, so
# no hidden count can be worked out by subtraction (the statistics' second rule).
THRESHOLD = 10
# "Searched often, rarely clicked": clicks on fewer than one in five searches with results.
LOW_CLICK_SHARE = 0.2
LIST_LIMIT = 100
WORD_MIN, WORD_MAX = 2, 80


class InvalidWord(ClbError):
    status = 422
    code = "invalid_theme_word"
    message = "Vul een woord van 2 tot 80 tekens in."

    def __init__(self, message: str | None = None, *, field: str = "word") -> None:
        super().__init__(message, details={"field": field})
        self.field = field


class DuplicateWord(InvalidWord):
    status = 409
    code = "duplicate_theme_word"
    message = "Dit woord staat al bij dit thema, in deze taal."


class WordNotFound(NotFound):
    message = "Dit woord staat niet (meer) in de lijst."


class UnknownTheme(InvalidWord):
    message = "Kies een thema uit de lijst."


class UnknownLanguage(InvalidWord):
    message = "Kies een taal uit de lijst."


class NoLetter(InvalidWord):
    message = "Een woord moet minstens één letter of cijfer bevatten."


@dataclass(frozen=True)
class Known:
    theme: str
    language: str


@dataclass(frozen=True)
class InsightRow:
    query: str
    count: int
    clicks: int | None = None  # None: below the threshold, shown as "<10"
    known: tuple[Known, ...] = field(default=())


@dataclass(frozen=True)
class Insights:
    since: date
    zero_results: list[InsightRow]
    low_clicks: list[InsightRow]


def today_in_brussels() -> date:
    return datetime.now(BRUSSELS).date()


def first_kept_day(today: date) -> date:
    return today - timedelta(days=RETENTION_DAYS - 1)


async def insights(session: AsyncSession, today: date) -> Insights:
    """The last 90 days' zero-result and low-click queries, small counts suppressed."""
    since = first_kept_day(today)
    zero = await repository.zero_result_queries(session, since, THRESHOLD, LIST_LIMIT)
    low = await repository.low_click_queries(session, since, THRESHOLD, LOW_CLICK_SHARE, LIST_LIMIT)
    queries = sorted({row.query for row in (*zero, *low)})
    known: dict[str, list[Known]] = {}
    for word in await repository.words_matching(session, queries):
        known.setdefault(word.normalised, []).append(Known(word.theme, word.language))
    return Insights(
        since=since,
        zero_results=[
            InsightRow(row.query, row.zero_results, known=tuple(known.get(row.query, ())))
            for row in zero
        ],
        low_clicks=[
            InsightRow(
                row.query,
                row.with_results,
                clicks=row.clicks if row.clicks >= THRESHOLD else None,
                known=tuple(known.get(row.query, ())),
            )
            for row in low
        ],
    )


async def purge_search_log(session: AsyncSession, today: date) -> int:
    """Retention: the days before the last 90 go."""
    return await repository.delete_days_before(session, first_kept_day(today))


# --- Theme vocabularies --------------------------------------------------------------------


def clean_word(theme: str, language: str, word: str) -> tuple[str, str]:
    """The word as it will be shown, and normalised; raises InvalidWord for the first
    field that is wrong."""
    if theme not in THEME_LABELS:
        raise UnknownTheme(field="theme")
    if language not in LANGUAGE_NAMES:
        raise UnknownLanguage(field="language")
    shown = " ".join(word.split())
    if not WORD_MIN <= len(shown) <= WORD_MAX:
        raise InvalidWord()
    normalised = normalise_word(shown)
    if not normalised:
        raise NoLetter()
    if len(normalised) > WORD_MAX:  # "ß" and a few others grow when folded
        raise InvalidWord()
    return shown, normalised


def _changed(session: AsyncSession, action: str, actor: StaffAccount, word: ThemeWord) -> None:
    """Audit the change; once committed, this process's search reads the vocabulary again
    (the other processes see it through its fingerprint within seconds)."""

    async def reread() -> None:
        await vocabulary_changed(session)

    after_commit(session, reread)
    record_audit(
        session,
        f"toolbox.theme_word.{action}",
        actor_id=actor.id,
        object_type="toolbox_theme_word",
        object_id=str(word.id),
    )


async def add_word(
    session: AsyncSession, actor: StaffAccount, theme: str, language: str, word: str
) -> ThemeWord:
    """An editor's word for a theme, in one language; audited."""
    shown, normalised = clean_word(theme, language, word)
    if await repository.word_exists(session, theme, language, normalised):
        raise DuplicateWord()
    row = ThemeWord(
        theme=theme, language=language, word=shown, normalised=normalised, source="editor"
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another editor added it a moment ago
        raise DuplicateWord() from None
    _changed(session, "added", actor, row)
    return row


async def remove_word(session: AsyncSession, actor: StaffAccount, word_id: int) -> ThemeWord:
    row = await repository.word_by_id(session, word_id)
    if row is None:
        raise WordNotFound()
    _changed(session, "removed", actor, row)
    await session.delete(row)
    return row


def vocabularies(words: Sequence[ThemeWord]) -> dict[str, dict[str, list[ThemeWord]]]:
    """Every theme (in THEME_LABELS' order) to its words by language (in LANGUAGE_NAMES'
    order); a theme without words is there too, empty."""
    grouped: dict[str, dict[str, list[ThemeWord]]] = {theme: {} for theme in THEME_LABELS}
    for word in words:
        if word.theme in grouped:
            grouped[word.theme].setdefault(word.language, []).append(word)
    order = list(LANGUAGE_NAMES)
    return {
        theme: dict(sorted(by_language.items(), key=lambda item: _position(order, item[0])))
        for theme, by_language in grouped.items()
    }


def _position(order: list[str], language: str) -> int:
    return order.index(language) if language in order else len(order)


async def all_vocabularies(session: AsyncSession) -> dict[str, dict[str, list[ThemeWord]]]:
    return vocabularies(await repository.theme_words(session))
